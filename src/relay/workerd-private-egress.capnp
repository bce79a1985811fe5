# Like workerd.capnp, but egress may also reach private and loopback addresses: for intranet registries
# (and the tests' loopback registries). The relay's own checks then stand alone: list such hosts in
# RELAY_ALLOW_PRIVATE, and note that a public name resolving to a private address is not caught here.
@0xc3b0f5a0e6d1a2b6;
using Workerd = import "/workerd/workerd.capnp";
using Relay = import "relay-worker.capnp";

const config :Workerd.Config = (
  services = [
    (name = "relay", worker = Relay.worker),
    (name = "egress", network = (allow = ["public", "private", "local"], tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8080", http = (), service = "relay")],
);
