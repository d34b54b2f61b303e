package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"gopkg.in/yaml.v3"
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
	return readManifestsIn(t, "k8s")
}

// readManifestsIn reads every document under deploy/dir.
func readManifestsIn(t *testing.T, dir string) *manifests {
	t.Helper()
	files, err := filepath.Glob(dir + "/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests under deploy/%s: %v", dir, err)
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
