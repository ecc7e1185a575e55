package compose

// Support is one row of the table of compose keys cirun implements.
type Support struct {
	// Path is the key's path from the top of the file, dot-separated: "*"
	// stands for any map key (a service, network or volume name), "[]" for
	// any list element. A key is supported when its path is a row's path or
	// lies under it (the whole subtree is then accepted).
	Path string
	// Values, when set, are the only values accepted for the key (besides
	// the empty value); a value ending in "*" accepts any value with that
	// prefix ("service:*").
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

	{Path: "services.*.attach", Note: "`attach: false`: an attached `up` does not show the service's output (as `--no-attach`); `--attach` overrides it"},
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
	{Path: "services.*.configs.[].source"},
	{Path: "services.*.configs.[].target", Note: "default `/NAME`; a relative target is under `/`"},
	{Path: "services.*.configs.[].uid"},
	{Path: "services.*.configs.[].gid"},
	{Path: "services.*.configs.[].mode", Note: "default 0444 (a `file:` source keeps its own); with uid/gid/mode cirun mounts a copy it owns (docs/notes-spec.md)"},
	{Path: "services.*.container_name", Note: "two services sharing one fail the commands that create both (`up`, not `up SERVICE` or `down`), as docker compose"},
	{Path: "services.*.cpus"},
	{Path: "services.*.cpu_shares"},
	{Path: "services.*.cpuset"},
	{Path: "services.*.depends_on.*.condition"},
	{Path: "services.*.depends_on.*.required"},
	{Path: "services.*.depends_on.*.restart"},
	{Path: "services.*.deploy.replicas"},
	{Path: "services.*.deploy.resources.limits.memory"},
	{Path: "services.*.deploy.resources.limits.cpus"},
	{Path: "services.*.deploy.resources.limits.pids"},
	{Path: "services.*.deploy.resources.reservations.memory"},
	{Path: "services.*.deploy.restart_policy.condition", Values: []string{"none", "on-failure", "any"}, Note: "used when `restart` is not set, as docker compose does"},
	{Path: "services.*.deploy.restart_policy.max_attempts"},
	{Path: "services.*.devices"},
	{Path: "services.*.dns"},
	{Path: "services.*.dns_opt"},
	{Path: "services.*.dns_search"},
	{Path: "services.*.entrypoint"},
	{Path: "services.*.env_file", Note: "resolved into environment at load time; `required: false` honoured; `format: raw` as docker compose (values as written)"},
	{Path: "services.*.environment", Note: "an entry without value that the environment does not set unsets the image's variable, as docker"},
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
	{Path: "services.*.ipc", Values: []string{"host", "private", "shareable", "service:*", "container:*"}},
	{Path: "services.*.labels"},
	{Path: "services.*.label_file", Note: "resolved into labels at load time"},
	{Path: "services.*.mac_address"},
	{Path: "services.*.mem_limit"},
	{Path: "services.*.mem_reservation"},
	{Path: "services.*.memswap_limit"},
	{Path: "services.*.network_mode", Values: []string{"bridge", "none", "host", "service:*", "container:*"}, Note: "`service:NAME` joins the first container of NAME"},
	{Path: "services.*.networks.*.aliases"},
	{Path: "services.*.networks.*.ipv4_address"},
	{Path: "services.*.networks.*.ipv6_address"},
	{Path: "services.*.networks.*.mac_address"},
	{Path: "services.*.networks.*.interface_name"},
	{Path: "services.*.networks.*.priority", Note: "orders the networks; the first is the primary one"},
	{Path: "services.*.pid", Values: []string{"host", "private", "service:*", "container:*"}},
	{Path: "services.*.pids_limit"},
	{Path: "services.*.platform"},
	{Path: "services.*.post_start", Note: "run in the container (exec, with the hook's `user`, `privileged`, `working_dir`, `environment`) once it started (`up`, `start`); a failing hook fails the command with docker compose's `SERVICE hook exited with status N`; an attached `up` shows its output as `NAME ->  | line` (every prefix then padded to that width, as docker compose)"},
	{Path: "services.*.pre_stop", Note: "run in the running container (exec) before `stop`, `down` and an attached `up`'s abort or Ctrl-C stop it; `up` shows its output as `NAME ->  | line`; `down` removes the container even when the hook fails (and reports it)"},
	{Path: "services.*.ports"},
	{Path: "services.*.privileged"},
	{Path: "services.*.profiles"},
	{Path: "services.*.pull_policy"},
	{Path: "services.*.read_only"},
	{Path: "services.*.restart"},
	{Path: "services.*.scale"},
	{Path: "services.*.secrets.[].source"},
	{Path: "services.*.secrets.[].target", Note: "default `/run/secrets/NAME`; a relative target is under `/run/secrets`"},
	{Path: "services.*.secrets.[].uid"},
	{Path: "services.*.secrets.[].gid"},
	{Path: "services.*.secrets.[].mode", Note: "default 0444 (a `file:` source keeps its own); with uid/gid/mode cirun mounts a copy it owns (docs/notes-spec.md)"},
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
	{Path: "services.*.volumes.[].consistency", Note: "no effect on Linux, as with docker"},
	{Path: "services.*.volumes.[].bind.create_host_path"},
	{Path: "services.*.volumes.[].bind.propagation"},
	{Path: "services.*.volumes.[].bind.selinux", Values: []string{"z", "Z"}},
	{Path: "services.*.volumes.[].volume.nocopy"},
	{Path: "services.*.volumes.[].tmpfs.size"},
	{Path: "services.*.volumes.[].tmpfs.mode"},
	{Path: "services.*.links", Note: "`SERVICE[:ALIAS]`: the linking container's /etc/hosts maps ALIAS and SERVICE to the first container of SERVICE (started first), on a network they share"},
	{Path: "services.*.volumes_from", Note: "`SERVICE[:ro|rw]` takes the first container of SERVICE; `container:NAME[:ro|rw]`"},
	{Path: "services.*.working_dir"},

	{Path: "networks.*.name"},
	{Path: "networks.*.driver", Values: []string{"bridge"}},
	{Path: "networks.*.driver_opts"},
	{Path: "networks.*.internal"},
	{Path: "networks.*.enable_ipv6"},
	{Path: "networks.*.external"},
	{Path: "networks.*.labels"},
	{Path: "networks.*.ipam.driver", Values: []string{"default"}},
	{Path: "networks.*.ipam.config.[].subnet"},
	{Path: "networks.*.ipam.config.[].gateway"},
	{Path: "networks.*.ipam.config.[].ip_range"},

	{Path: "volumes.*.name"},
	{Path: "volumes.*.driver", Values: []string{"local"}},
	{Path: "volumes.*.driver_opts"},
	{Path: "volumes.*.external"},
	{Path: "volumes.*.labels"},

	{Path: "secrets.*.name"},
	{Path: "secrets.*.file", Note: "bind-mounted read-only (a copy when uid/gid/mode are set)"},
	{Path: "secrets.*.environment", Note: "the variable's value, written to a file cirun owns and removes on `down`"},
	{Path: "secrets.*.content", Internal: true}, // compose-go's value of `environment:`

	{Path: "configs.*.name"},
	{Path: "configs.*.file", Note: "bind-mounted read-only (a copy when uid/gid/mode are set)"},
	{Path: "configs.*.environment", Note: "the variable's value, written to a file cirun owns and removes on `down`"},
	{Path: "configs.*.content", Note: "written to a file cirun owns and removes on `down`"},

	{Path: "include", Note: "resolved by the loader"},
}

// NotYet names notable compose features cirun rejects today, for
// docs/compose-support.md. It is documentation only: Check rejects whatever
// Supported does not list.
var NotYet = []string{
	"top-level `models`, `jobs`; `external` secrets and configs (swarm objects), their `driver` and `template_driver`",
	"service `models`",
	"`external_links`",
	"`uts`, `userns_mode`, `cgroup`, `cgroup_parent`; `domainname` (Podman forbids kernel.domainname)",
	"`networks.*.enable_ipv4`, `attachable`, `ipam.options`, `ipam.config[].aux_addresses`; a service network's `driver_opts`, `link_local_ips`, `gw_priority`",
	"`build`: `entitlements`, `privileged`, `isolation`, `ulimits`, `no_cache_filter`, `provenance`, `sbom`; more than one of `platforms`",
	"`develop` (watch), `pre_start` hooks, `provider`",
	"`logging`, `gpus`, `runtime`, `storage_opt`, `oom_score_adj`, `cpu_quota`/`cpu_period` and the other cpu/blkio knobs",
	"`volumes` of type `npipe`, `cluster` or `image`; volume `subpath` (Podman 4.3 has none); bind `recursive`",
	"network drivers other than `bridge`, volume drivers other than `local`",
}
