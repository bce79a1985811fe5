# The relay on workerd, locally:
#   node --import tsx src/relay/build-worker.ts
#   RELAY_ORIGINS=https://app.example npx workerd serve src/relay/workerd.capnp [--socket-addr http=127.0.0.1:8080]
# Egress reaches public addresses only: workerd itself refuses a name that resolves to a private, loopback or
# link-local address, which the relay cannot check here (workerd does not expose DNS to workers).
@0xc3b0f5a0e6d1a2b5;
using Workerd = import "/workerd/workerd.capnp";
using Relay = import "relay-worker.capnp";

const config :Workerd.Config = (
  services = [
    (name = "relay", worker = Relay.worker),
    (name = "egress", network = (allow = ["public"], tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8080", http = (), service = "relay")],
);
