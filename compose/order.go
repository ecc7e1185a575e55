package compose

import (
	"bytes"
	"fmt"
	"slices"

	"go.yaml.in/yaml/v4"
)

// serviceKeys is the order in which docker compose prints a service's keys:
// the field order of compose-go's flat ServiceConfig, which docker compose
// v2/v5 builds with. The compose-go cirun uses groups the fields differently
// (ContainerSpec, WorkloadSpec), so its own order would put networks before
// build. Keys this list lacks (newer ones) go after the listed ones, in
// compose-go's order, and extensions (x-*) last.
var serviceKeys = []string{
	"profiles", "annotations", "attach", "build", "develop", "blkio_config",
	"cap_add", "cap_drop", "cgroup_parent", "cgroup", "cpu_count", "cpu_percent",
	"cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime", "cpus", "cpuset",
	"cpu_shares", "command", "configs", "container_name", "credential_spec",
	"depends_on", "deploy", "device_cgroup_rules", "devices", "dns", "dns_opt",
	"dns_search", "dockerfile", "domainname", "entrypoint", "provider",
	"environment", "env_file", "expose", "extends", "external_links",
	"extra_hosts", "group_add", "gpus", "hostname", "healthcheck", "image",
	"init", "ipc", "isolation", "labels", "label_file", "links", "logging",
	"log_driver", "log_opt", "mem_limit", "mem_reservation", "memswap_limit",
	"mem_swappiness", "mac_address", "models", "net", "network_mode", "networks",
	"oom_kill_disable", "oom_score_adj", "pid", "pids_limit", "platform", "ports",
	"privileged", "pull_policy", "pull_refresh_after", "read_only", "restart",
	"runtime", "scale", "secrets", "security_opt", "shm_size", "stdin_open",
	"stop_grace_period", "stop_signal", "storage_opt", "sysctls", "tmpfs", "tty",
	"ulimits", "umask", "use_api_socket", "user", "userns_mode", "uts",
	"volume_driver", "volumes", "volumes_from", "working_dir", "pre_start",
	"post_start", "pre_stop",
}

// serviceKeyRank ranks a service key for sorting.
func serviceKeyRank(key string) int {
	if i := slices.Index(serviceKeys, key); i >= 0 {
		return i
	}
	if len(key) > 2 && key[:2] == "x-" {
		return len(serviceKeys) + 1
	}
	return len(serviceKeys)
}

// orderServices rewrites a project rendered as YAML (2-space indent) with
// each service's keys in docker compose's order.
func orderServices(b []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return b, nil
	}
	services := mappingValue(doc.Content[0], "services")
	if services == nil || services.Kind != yaml.MappingNode {
		return b, nil
	}
	for i := 1; i < len(services.Content); i += 2 {
		if svc := services.Content[i]; svc.Kind == yaml.MappingNode {
			sortMapping(svc, serviceKeyRank)
		}
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("ordering service keys: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("ordering service keys: %w", err)
	}
	return out.Bytes(), nil
}

// mappingValue returns the value of key in mapping node m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// sortMapping stably sorts the key/value pairs of mapping node m by rank.
func sortMapping(m *yaml.Node, rank func(string) int) {
	type pair struct{ k, v *yaml.Node }
	pairs := make([]pair, 0, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		pairs = append(pairs, pair{m.Content[i], m.Content[i+1]})
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return rank(a.k.Value) - rank(b.k.Value) })
	m.Content = m.Content[:0]
	for _, p := range pairs {
		m.Content = append(m.Content, p.k, p.v)
	}
}
