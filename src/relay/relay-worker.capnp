# The relay worker shared by workerd.capnp and workerd-private-egress.capnp: the bundled module
# (node --import tsx src/relay/build-worker.ts writes it) and its settings, read from the environment
# under the same names as for Node (an unset variable leaves the default).
@0xc3b0f5a0e6d1a2b4;
using Workerd = import "/workerd/workerd.capnp";

const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "../../node_modules/.cache/skiff-relay/worker.js")],
  compatibilityDate = "2025-09-01",
  bindings = [
    (name = "RELAY_ALLOW", fromEnvironment = "RELAY_ALLOW"),
    (name = "RELAY_ALLOW_PRIVATE", fromEnvironment = "RELAY_ALLOW_PRIVATE"),
    (name = "RELAY_ALLOW_PUSH", fromEnvironment = "RELAY_ALLOW_PUSH"),
    (name = "RELAY_PLAIN_HTTP", fromEnvironment = "RELAY_PLAIN_HTTP"),
    (name = "RELAY_ORIGINS", fromEnvironment = "RELAY_ORIGINS"),
    (name = "RELAY_DOCKERHUB_MIRROR", fromEnvironment = "RELAY_DOCKERHUB_MIRROR"),
    (name = "RELAY_PUBLIC_URL", fromEnvironment = "RELAY_PUBLIC_URL"),
    (name = "RELAY_CLIENT_IP_HEADER", fromEnvironment = "RELAY_CLIENT_IP_HEADER"),
    (name = "RELAY_RATE_LIMIT", fromEnvironment = "RELAY_RATE_LIMIT"),
    (name = "RELAY_CONCURRENCY", fromEnvironment = "RELAY_CONCURRENCY"),
  ],
  # Every outbound fetch goes through the "egress" service, which each top-level config defines.
  globalOutbound = "egress",
);
