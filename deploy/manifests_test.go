package deploy_test

import (
	"bytes"
	"errors"
	"io"
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

// The parts of the Kubernetes objects the checks read.
type (
	meta struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	}
	object struct {
		Kind     string `yaml:"kind"`
		Metadata meta   `yaml:"metadata"`
	}
	securityContext struct {
		RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
		RunAsUser                *int64 `yaml:"runAsUser"`
		RunAsGroup               *int64 `yaml:"runAsGroup"`
		FSGroup                  *int64 `yaml:"fsGroup"`
		ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
		SeccompProfile struct {
			Type string `yaml:"type"`
		} `yaml:"seccompProfile"`
	}
	probe struct {
		HTTPGet *struct {
			Path string `yaml:"path"`
			Port any    `yaml:"port"`
		} `yaml:"httpGet"`
	}
	container struct {
		Name  string   `yaml:"name"`
		Args  []string `yaml:"args"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		Env []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
		EnvFrom []struct {
			ConfigMapRef *struct{ Name string } `yaml:"configMapRef"`
			SecretRef    *struct{ Name string } `yaml:"secretRef"`
		} `yaml:"envFrom"`
		LivenessProbe   *probe          `yaml:"livenessProbe"`
		ReadinessProbe  *probe          `yaml:"readinessProbe"`
		SecurityContext securityContext `yaml:"securityContext"`
		VolumeMounts    []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	}
	volume struct {
		Name                  string `yaml:"name"`
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
		EmptyDir any `yaml:"emptyDir"`
	}
	deployment struct {
		Spec struct {
			Replicas *int `yaml:"replicas"`
			Strategy struct {
				Type string `yaml:"type"`
			} `yaml:"strategy"`
			Template struct {
				Metadata meta `yaml:"metadata"`
				Spec     struct {
					TerminationGracePeriodSeconds int             `yaml:"terminationGracePeriodSeconds"`
					SecurityContext               securityContext `yaml:"securityContext"`
					Containers                    []container     `yaml:"containers"`
					Volumes                       []volume        `yaml:"volumes"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	service struct {
		Spec struct {
			Selector map[string]string `yaml:"selector"`
			Ports    []struct {
				Port       int `yaml:"port"`
				TargetPort any `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	pvc struct {
		Spec struct {
			AccessModes []string `yaml:"accessModes"`
		} `yaml:"spec"`
	}
	envSource struct {
		Data       map[string]string `yaml:"data"`
		StringData map[string]string `yaml:"stringData"`
	}
)

// manifests holds every document under k8s/, by kind and name.
type manifests struct {
	docs map[string]map[string]*yaml.Node // kind -> name -> document
}

func readManifests(t *testing.T) *manifests {
	t.Helper()
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests under deploy/k8s: %v", err)
	}
	m := &manifests{docs: map[string]map[string]*yaml.Node{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc yaml.Node
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var o object
			if err := doc.Decode(&o); err != nil || o.Kind == "" {
				t.Fatalf("%s: a document without a kind: %v", f, err)
			}
			if m.docs[o.Kind] == nil {
				m.docs[o.Kind] = map[string]*yaml.Node{}
			}
			m.docs[o.Kind][o.Metadata.Name] = &doc
		}
	}
	return m
}

// get decodes the one object of kind called name into out.
func (m *manifests) get(t *testing.T, kind, name string, out any) {
	t.Helper()
	doc, ok := m.docs[kind][name]
	if !ok {
		t.Fatalf("no %s %q under deploy/k8s", kind, name)
	}
	if err := doc.Decode(out); err != nil {
		t.Fatalf("%s %s: %v", kind, name, err)
	}
}

// only returns the name of the one object of kind.
func (m *manifests) only(t *testing.T, kind string) string {
	t.Helper()
	if len(m.docs[kind]) != 1 {
		t.Fatalf("%d objects of kind %s, want 1", len(m.docs[kind]), kind)
	}
	for name := range m.docs[kind] {
		return name
	}
	return ""
}

// portNumber resolves a probe's or Service's port (a number or the name
// of one of c's ports) to a number, or 0.
func portNumber(c container, p any) int {
	switch v := p.(type) {
	case int:
		return v
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		for _, cp := range c.Ports {
			if cp.Name == v {
				return cp.ContainerPort
			}
		}
	}
	return 0
}

// effectiveEnv is the container's environment as Kubernetes builds it
// over the image's: the Dockerfile's ENV, then envFrom in order, then env.
func effectiveEnv(t *testing.T, m *manifests, c container, image map[string]string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for k, v := range image {
		env[k] = v
	}
	for _, from := range c.EnvFrom {
		var src envSource
		switch {
		case from.ConfigMapRef != nil:
			m.get(t, "ConfigMap", from.ConfigMapRef.Name, &src)
		case from.SecretRef != nil:
			m.get(t, "Secret", from.SecretRef.Name, &src)
		}
		for k, v := range src.Data {
			env[k] = v
		}
		for k, v := range src.StringData {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return env
}

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

// envFromConfigMap returns the variables c takes from ConfigMaps.
func envFromConfigMap(t *testing.T, m *manifests, c container) map[string]string {
	out := map[string]string{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef != nil {
			var src envSource
			m.get(t, "ConfigMap", from.ConfigMapRef.Name, &src)
			for k, v := range src.Data {
				out[k] = v
			}
		}
	}
	return out
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
