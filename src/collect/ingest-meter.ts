/** Counts accepted events and gives a rate over the last few seconds, for `/v1/stats`. */
export class IngestMeter {
  private readonly buckets = new Map<number, number>();
  acceptedTotal = 0;
  rejectedTotal = 0;
  quarantinedTotal = 0;

  constructor(private readonly windowSeconds = 10) {}

  record(accepted: number, rejected: number, now = Date.now(), quarantined = 0): void {
    this.acceptedTotal += accepted;
    this.quarantinedTotal += quarantined;
    this.rejectedTotal += rejected;
    const second = Math.floor(now / 1000);
    this.buckets.set(second, (this.buckets.get(second) ?? 0) + accepted);
    if (this.buckets.size > this.windowSeconds * 2) {
      for (const key of this.buckets.keys()) if (key < second - this.windowSeconds) this.buckets.delete(key);
    }
  }

  /** Events per second over the last full `windowSeconds`. */
  rate(now = Date.now()): number {
    const current = Math.floor(now / 1000);
    let sum = 0;
    for (let second = current - this.windowSeconds; second < current; second++)
      sum += this.buckets.get(second) ?? 0;
    return sum / this.windowSeconds;
  }
}
