/**
 * One run's registry clients, one per registry: its tokens (one per scope) and what it showed about Range
 * serve every image of the run. Resolved images are plain data; the client for one comes from here.
 */
import { RegistryClient } from './client.ts';
import { type RateLimit, lowerRateLimit } from './transport/rate-limit.ts';
import { type TransportOptions, transportOf } from './transport/options.ts';
import type { ClientRole } from './transport/stack.ts';

export class RegistryClients {
  private readonly clients = new Map<string, RegistryClient>();
  private readonly transport: TransportOptions;

  constructor(
    transport: TransportOptions,
    private readonly role: ClientRole = {},
  ) {
    this.transport = transportOf(transport);
  }

  for(registry: string): RegistryClient {
    let client = this.clients.get(registry);
    if (!client) this.clients.set(registry, (client = new RegistryClient(registry, this.transport, this.role)));
    return client;
  }

  /** The lowest pull quota left that any registry of the run reported. */
  get rateLimit(): RateLimit | undefined {
    let low: RateLimit | undefined;
    for (const client of this.clients.values()) low = lowerRateLimit(low, client.rateLimit);
    return low;
  }
}
