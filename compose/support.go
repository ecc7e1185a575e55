package compose

// Support is one row of the table of compose keys cirun implements.
type Support struct {
	// Path is the key's path from the top of the file, dot-separated: "*"
	// stands for any map key (a service, network or volume name), "[]" for
	// any list element. A key is supported when its path is a row's path or
	// lies under it (the whole subtree is then accepted).
	Path string
	// Values, when set, are the only values accepted for the key (besides
	// the empty value).
	Values []string
	// Note explains the row in docs/compose-support.md.
	Note string
	// Internal rows cover fields compose-go fills in by itself: they are
	// accepted but not documented.
	Internal bool
}

// Supported is the one table of what cirun implements: the keys the runner
// maps to containers, networks and volumes, plus the few the loader resolves
// by itself. Check rejects every other non-empty key. Grow it as the runner
// learns new keys, then regenerate docs/compose-support.md with
// `go test ./compose -run TestSupportDoc -update`.
var Supported = []Support{
	{Path: "name", Note: "project name"},

	{Path: "services.*.name", Internal: true}, // set by compose-go to the service's key

	{Path: "services.*.build.context"},
	{Path: "services.*.build.dockerfile", Note: "defaults to Dockerfile"},
	{Path: "services.*.build.dockerfile_inline"},
	{Path: "services.*.build.args"},
	{Path: "services.*.build.target"},
	{Path: "services.*.build.labels"},
	{Path: "services.*.build.tags"},
	{Path: "services.*.build.no_cache"},
	{Path: "services.*.build.pull"},
	{Path: "services.*.build.network"},
	{Path: "services.*.build.extra_hosts"},
	{Path: "services.*.build.shm_size"},
	{Path: "services.*.build.cache_from", Note: "registry repositories (`HOST/REPO` or `type=registry,ref=HOST/REPO`) holding Buildah's layer cache; other cache types are rejected"},
	{Path: "services.*.build.cache_to", Note: "as `cache_from`; with `--registry` both also use `HOST/cirun/cache`"},
	{Path: "services.*.build.secrets", Note: "file and environment sources, for `RUN --mount=type=secret`; never stored in the image"},
	{Path: "services.*.build.ssh", Note: "`default` (the agent of `SSH_AUTH_SOCK`) or `ID=path` to a key, for `RUN --mount=type=ssh`"},
	{Path: "services.*.build.additional_contexts", Note: "directories, `docker-image://REF`, `service:NAME` (built first), http(s) tar URLs"},
	{Path: "services.*.build.platforms", Note: "one platform, the host's; several are refused with an error"},
	{Path: "services.*.cap_add"},
	{Path: "services.*.cap_drop"},
	{Path: "services.*.command"},
	{Path: "services.*.container_name"},
	{Path: "services.*.depends_on.*.condition"},
	{Path: "services.*.depends_on.*.required"},
	{Path: "services.*.depends_on.*.restart"},
	{Path: "services.*.deploy.replicas"},
	{Path: "services.*.deploy.resources.limits.memory"},
	{Path: "services.*.deploy.resources.limits.cpus"},
	{Path: "services.*.deploy.resources.limits.pids"},
	{Path: "services.*.deploy.resources.reservations.memory"},
	{Path: "services.*.devices"},
	{Path: "services.*.dns"},
	{Path: "services.*.dns_opt"},
	{Path: "services.*.dns_search"},
	{Path: "services.*.domainname"},
	{Path: "services.*.entrypoint"},
	{Path: "services.*.env_file", Note: "resolved into environment at load time; `required: false` honoured"},
	{Path: "services.*.environment"},
	{Path: "services.*.expose"},
	{Path: "services.*.extends", Note: "resolved by the loader"},
	{Path: "services.*.extra_hosts"},
	{Path: "services.*.group_add"},
	{Path: "services.*.healthcheck.test"},
	{Path: "services.*.healthcheck.interval"},
	{Path: "services.*.healthcheck.timeout"},
	{Path: "services.*.healthcheck.retries"},
	{Path: "services.*.healthcheck.start_period"},
	{Path: "services.*.healthcheck.start_interval"},
	{Path: "services.*.healthcheck.disable"},
	{Path: "services.*.hostname"},
	{Path: "services.*.image"},
	{Path: "services.*.init"},
	{Path: "services.*.labels"},
	{Path: "services.*.label_file", Note: "resolved into labels at load time"},
	{Path: "services.*.mac_address"},
	{Path: "services.*.network_mode", Values: []string{"none", "host"}, Note: "service: and container: not yet"},
	{Path: "services.*.networks.*.aliases"},
	{Path: "services.*.networks.*.ipv4_address"},
	{Path: "services.*.networks.*.ipv6_address"},
	{Path: "services.*.platform"},
	{Path: "services.*.ports"},
	{Path: "services.*.privileged"},
	{Path: "services.*.profiles"},
	{Path: "services.*.pull_policy"},
	{Path: "services.*.read_only"},
	{Path: "services.*.restart"},
	{Path: "services.*.scale"},
	{Path: "services.*.security_opt"},
	{Path: "services.*.shm_size"},
	{Path: "services.*.stdin_open"},
	{Path: "services.*.stop_grace_period"},
	{Path: "services.*.stop_signal"},
	{Path: "services.*.sysctls"},
	{Path: "services.*.tmpfs"},
	{Path: "services.*.tty"},
	{Path: "services.*.ulimits"},
	{Path: "services.*.user"},
	{Path: "services.*.volumes.[].type", Values: []string{"bind", "volume", "tmpfs"}},
	{Path: "services.*.volumes.[].source"},
	{Path: "services.*.volumes.[].target"},
	{Path: "services.*.volumes.[].read_only"},
	{Path: "services.*.volumes.[].bind.create_host_path"},
	{Path: "services.*.volumes.[].volume.nocopy"},
	{Path: "services.*.working_dir"},

	{Path: "networks.*.name"},
	{Path: "networks.*.driver", Values: []string{"bridge"}},
	{Path: "networks.*.driver_opts"},
	{Path: "networks.*.internal"},
	{Path: "networks.*.enable_ipv6"},
	{Path: "networks.*.external"},
	{Path: "networks.*.labels"},
	{Path: "networks.*.ipam.config.[].subnet"},
	{Path: "networks.*.ipam.config.[].gateway"},
	{Path: "networks.*.ipam.config.[].ip_range"},

	{Path: "volumes.*.name"},
	{Path: "volumes.*.driver", Values: []string{"local"}},
	{Path: "volumes.*.driver_opts"},
	{Path: "volumes.*.external"},
	{Path: "volumes.*.labels"},

	{Path: "include", Note: "resolved by the loader"},
}

// NotYet names notable compose features cirun rejects today, for
// docs/compose-support.md. It is documentation only: Check rejects whatever
// Supported does not list.
var NotYet = []string{
	"top-level `secrets`, `configs`, `models`, `jobs`",
	"service `secrets`, `configs`, `models`",
	"`links`, `external_links`, `volumes_from`",
	"`ipc`, `pid`, `uts`, `userns_mode`, `cgroup`, `cgroup_parent`",
	"`network_mode: service:…` and `network_mode: container:…`",
	"`build`: `entitlements`, `privileged`, `isolation`, `ulimits`, `no_cache_filter`, `provenance`, `sbom`; more than one of `platforms`",
	"`develop` (watch), `pre_start`, `post_start` and `pre_stop` hooks, `provider`",
	"`logging`, `mem_limit`/`cpus` outside `deploy`, `gpus`, `runtime`, `storage_opt`",
	"`volumes` of type `npipe`, `cluster` or `image`; bind `propagation`/`selinux`; volume `subpath`; tmpfs `size`/`mode`",
	"network drivers other than `bridge`, volume drivers other than `local`",
}
