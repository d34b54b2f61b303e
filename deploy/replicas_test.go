package deploy_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/store"
)

// deploy/k8s-replicas runs attest as several replicas on PostgreSQL: three
// pods, rolled one at a time, a disruption budget keeping two, no volume,
// the database URL from the Secret, the same probes and security context.
func TestReplicaManifests(t *testing.T) {
	m := readManifestsIn(t, "k8s-replicas")
	var dep deployment
	m.get(t, "Deployment", m.only(t, "Deployment"), &dep)
	spec := dep.Spec.Template.Spec
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3", dep.Spec.Replicas)
	}
	if dep.Spec.Strategy.Type != "RollingUpdate" {
		t.Errorf("strategy %q, want RollingUpdate: replicas on PostgreSQL may overlap", dep.Spec.Strategy.Type)
	}
	for _, v := range spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			t.Errorf("volume %s is a PersistentVolumeClaim: replicas keep no state", v.Name)
		}
	}
	if len(m.docs["PersistentVolumeClaim"]) != 0 {
		t.Error("a PersistentVolumeClaim is defined: replicas keep no state")
	}
	c := spec.Containers[0]
	env := effectiveEnv(t, m, c, readDockerfile(t, "../Dockerfile").envMap(t))
	cfg, err := config.Parse(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the container's environment is not a valid config: %v", err)
	}
	if !store.IsPostgres(cfg.Store.Target()) {
		t.Errorf("the store is %q, want a PostgreSQL URL (ATTEST_DATABASE_URL)", store.Redact(cfg.Store.Target()))
	}
	if _, inConfigMap := envFromConfigMap(t, m, c)[config.EnvDatabaseURL]; inConfigMap {
		t.Errorf("%s holds a password: it belongs in the Secret", config.EnvDatabaseURL)
	}
	for name := range env {
		if !config.KnownEnv(name) {
			t.Errorf("%s is set but not in config's environment mapping", name)
		}
	}
	for _, p := range []struct {
		probe *probe
		path  string
	}{{c.LivenessProbe, "/healthz"}, {c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || portNumber(c, p.probe.HTTPGet.Port) != c.Ports[0].ContainerPort {
			t.Errorf("want an httpGet probe of %s on the container's port", p.path)
		}
	}
	sc := c.SecurityContext
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		!slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) || effective(sc.RunAsNonRoot, spec.SecurityContext.RunAsNonRoot) == nil {
		t.Errorf("security context %+v: want non-root, read-only root filesystem, no privilege escalation, all capabilities dropped", sc)
	}

	var pdb struct {
		Spec struct {
			MinAvailable   *int `yaml:"minAvailable"`
			MaxUnavailable *int `yaml:"maxUnavailable"`
			Selector       struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
		} `yaml:"spec"`
	}
	m.get(t, "PodDisruptionBudget", m.only(t, "PodDisruptionBudget"), &pdb)
	if pdb.Spec.MinAvailable == nil || *pdb.Spec.MinAvailable < 2 || *pdb.Spec.MinAvailable >= *dep.Spec.Replicas {
		t.Errorf("PodDisruptionBudget minAvailable %v: want at least 2 and fewer than the replicas", pdb.Spec.MinAvailable)
	}
	for k, v := range pdb.Spec.Selector.MatchLabels {
		if dep.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("the budget's selector %s=%s does not match the pods", k, v)
		}
	}

	data, err := os.ReadFile("k8s-replicas/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `yaml:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir("k8s-replicas")
	for _, e := range entries {
		name := e.Name()
		listed := slices.Contains(k.Resources, name)
		if name != "kustomization.yaml" && listed == strings.HasSuffix(name, ".example.yaml") {
			t.Errorf("%s: listed in kustomization.yaml %v (examples are not, everything else is)", name, listed)
		}
	}
}
