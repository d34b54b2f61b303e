package deploy_test

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/attestbot/attest/config"
)

// effective returns the container's setting over the pod's.
func effective[T any](ctr, pod *T) *T {
	if ctr != nil {
		return ctr
	}
	return pod
}

func TestKubernetesManifests(t *testing.T) {
	m := readManifests(t)
	var dep deployment
	m.get(t, "Deployment", m.only(t, "Deployment"), &dep)
	spec := dep.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	image := readDockerfile(t, "../Dockerfile").envMap(t)
	env := effectiveEnv(t, m, c, image)
	cfg, err := config.Parse(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the container's environment is not a valid config: %v", err)
	}
	mounts := map[string]string{} // mount path -> volume name
	for _, vm := range c.VolumeMounts {
		mounts[vm.MountPath] = vm.Name
	}
	volumes := map[string]volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}

	t.Run("one replica, recreated", func(t *testing.T) {
		if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 {
			t.Errorf("replicas %v, want 1: SQLite has one writer", dep.Spec.Replicas)
		}
		if dep.Spec.Strategy.Type != "Recreate" {
			t.Errorf("strategy %q, want Recreate: a rolling update runs two writers at once", dep.Spec.Strategy.Type)
		}
	})
	t.Run("every variable is one attest reads", func(t *testing.T) {
		for name := range env {
			if !config.KnownEnv(name) {
				t.Errorf("%s is set but not in config's environment mapping (config.EnvVars)", name)
			}
		}
	})
	t.Run("probes on the port attest listens on", func(t *testing.T) {
		host, port := splitListen(t, cfg.HTTP.Listen)
		if !everyInterface(host) {
			t.Errorf("http.listen %s: the kubelet probes the pod's IP; listen on 0.0.0.0", cfg.HTTP.Listen)
		}
		if len(c.Ports) != 1 || strconv.Itoa(c.Ports[0].ContainerPort) != port {
			t.Fatalf("container ports %+v, want one, %s (http.listen)", c.Ports, port)
		}
		for _, p := range []struct {
			name  string
			probe *probe
			path  string
		}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
			if p.probe == nil || p.probe.HTTPGet == nil {
				t.Errorf("no %s httpGet probe", p.name)
				continue
			}
			if p.probe.HTTPGet.Path != p.path {
				t.Errorf("%s probe path %q, want %s", p.name, p.probe.HTTPGet.Path, p.path)
			}
			if got := portNumber(c, p.probe.HTTPGet.Port); strconv.Itoa(got) != port {
				t.Errorf("%s probe port %v (%d), want %s", p.name, p.probe.HTTPGet.Port, got, port)
			}
		}
	})
	t.Run("security context", func(t *testing.T) {
		pod, ctr := spec.SecurityContext, c.SecurityContext
		user := effective(ctr.RunAsUser, pod.RunAsUser)
		nonRoot := effective(ctr.RunAsNonRoot, pod.RunAsNonRoot)
		seccomp := ctr.SeccompProfile.Type
		if seccomp == "" {
			seccomp = pod.SeccompProfile.Type
		}
		checks := []struct {
			name string
			ok   bool
		}{
			{"runAsNonRoot: true", nonRoot != nil && *nonRoot},
			{"runAsUser: 65532, the image's USER", user != nil && *user == 65532},
			{"readOnlyRootFilesystem: true", ctr.ReadOnlyRootFilesystem != nil && *ctr.ReadOnlyRootFilesystem},
			{"allowPrivilegeEscalation: false", ctr.AllowPrivilegeEscalation != nil && !*ctr.AllowPrivilegeEscalation},
			{"capabilities drop ALL", slices.Equal(ctr.Capabilities.Drop, []string{"ALL"})},
			{"seccompProfile RuntimeDefault", seccomp == "RuntimeDefault"},
			{"fsGroup 65532, so the volume is writable", pod.FSGroup != nil && *pod.FSGroup == 65532},
		}
		for _, ck := range checks {
			if !ck.ok {
				t.Errorf("want %s", ck.name)
			}
		}
	})
	t.Run("database on the claim, /tmp writable", func(t *testing.T) {
		dir := path.Dir(cfg.Store.Path)
		v, ok := volumes[mounts[dir]]
		if !ok || v.PersistentVolumeClaim == nil {
			t.Fatalf("store.path %s: %s is not mounted from a PersistentVolumeClaim", cfg.Store.Path, dir)
		}
		var claim pvc
		m.get(t, "PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName, &claim)
		if !slices.Contains(claim.Spec.AccessModes, "ReadWriteOnce") {
			t.Errorf("claim access modes %v, want ReadWriteOnce", claim.Spec.AccessModes)
		}
		if tmp, ok := volumes[mounts["/tmp"]]; !ok || tmp.EmptyDir == nil {
			t.Errorf("/tmp is not an emptyDir mount; the root filesystem is read-only")
		}
	})
	t.Run("campaign definitions in the image or mounted", func(t *testing.T) {
		copied := readDockerfile(t, "../Dockerfile").copyDest("campaigns")
		if _, mounted := mounts[cfg.Campaigns.Dir]; cfg.Campaigns.Dir != copied && !mounted {
			t.Errorf("campaigns.dir %s is neither the image's %s nor a mount", cfg.Campaigns.Dir, copied)
		}
	})
	t.Run("grace period covers the shutdown timeout", func(t *testing.T) {
		grace := time.Duration(spec.TerminationGracePeriodSeconds) * time.Second
		if grace <= cfg.Serve.ShutdownTimeout.Duration() {
			t.Errorf("terminationGracePeriodSeconds %s <= serve.shutdown_timeout %s: the kubelet kills serve mid-shutdown",
				grace, cfg.Serve.ShutdownTimeout)
		}
	})
	t.Run("service reaches the pod", func(t *testing.T) {
		var svc service
		m.get(t, "Service", m.only(t, "Service"), &svc)
		for k, v := range svc.Spec.Selector {
			if dep.Spec.Template.Metadata.Labels[k] != v {
				t.Errorf("service selector %s=%s does not match the pod's labels", k, v)
			}
		}
		for _, p := range svc.Spec.Ports {
			if portNumber(c, p.TargetPort) != c.Ports[0].ContainerPort {
				t.Errorf("service port %d targets %v, not the container's port", p.Port, p.TargetPort)
			}
		}
	})
	t.Run("secrets come from the Secret", func(t *testing.T) {
		var secret envSource
		m.get(t, "Secret", m.only(t, "Secret"), &secret)
		fromConfigMaps := envFromConfigMap(t, m, c)
		for _, v := range config.EnvVars() {
			if _, inConfigMap := fromConfigMaps[v.Name]; inConfigMap && v.Kind == config.KindSecret {
				t.Errorf("%s is a secret but sits in the ConfigMap", v.Name)
			}
		}
		for _, name := range []string{config.EnvSlackAppToken, config.EnvSlackBotToken, config.EnvOktaAPIToken, config.EnvAuditKey} {
			if _, ok := secret.StringData[name]; !ok {
				t.Errorf("the Secret example lacks %s", name)
			}
		}
	})
}

// TestKustomizationListsEveryManifest: applying the directory applies
// every object but the example Secret.
func TestKustomizationListsEveryManifest(t *testing.T) {
	data, err := os.ReadFile("k8s/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `yaml:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("k8s/*.yaml")
	for _, f := range files {
		name := filepath.Base(f)
		listed := slices.Contains(k.Resources, name)
		switch {
		case name == "kustomization.yaml":
		case strings.HasSuffix(name, ".example.yaml") && listed:
			t.Errorf("%s is an example with placeholders; keep it out of kustomization.yaml", name)
		case !strings.HasSuffix(name, ".example.yaml") && !listed:
			t.Errorf("%s is not listed in kustomization.yaml", name)
		}
	}
	for _, r := range k.Resources {
		if _, err := os.Stat(filepath.Join("k8s", r)); err != nil {
			t.Errorf("kustomization.yaml lists %s: %v", r, err)
		}
	}
}
