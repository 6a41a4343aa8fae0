import type { NewEvent } from '../../db/tables.js';

/**
 * What happened, for the parts that tell other systems about it (MQTT, webhooks): they subscribe here instead of
 * being called from the services or the device check. Publishing is cheap and never fails the publisher: a
 * listener that throws is reported to `failed` and the others still run, and listeners only queue work.
 */
export type DomainEvent =
  /** An event of the event log, once its transaction committed (uploads, releases, rollouts, device changes). */
  | { kind: 'recorded'; event: NewEvent }
  /** A device's entry in the fleet changed (never for a check that changed nothing). */
  | { kind: 'device-changed'; mac: string }
  /** A device left the fleet (retention, or a person forgot it). */
  | { kind: 'device-forgotten'; mac: string };

export type DomainEventListener = (event: DomainEvent) => void;

export class DomainEvents {
  private readonly listeners = new Set<DomainEventListener>();

  constructor(private readonly failed: (err: unknown) => void = () => undefined) {}

  subscribe(listener: DomainEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: DomainEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.failed(err);
      }
    }
  }
}
