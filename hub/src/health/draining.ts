/**
 * Whether this process is shutting down: from the first SIGTERM on, `/readyz` answers 503
 * ("shutting down") so a balancer that still probes it sends new requests elsewhere.
 */
export class Draining {
  #draining = false;

  start(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }
}
