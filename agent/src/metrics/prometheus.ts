/**
 * @module The Prometheus text exposition format (version 0.0.4) for the agent's few metrics:
 * counters and histograms with labels, and gauges read when scraped. Written here rather than
 * with prom-client, which alone adds about 15 MB to the agent's resident memory.
 */

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Readonly<Record<string, string>>;

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([key, value]) => `${key}="${escapeLabelValue(value)}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

/** Keys a label set by its values in label-name order, so equal sets share a series. */
function seriesKey(names: readonly string[], labels: Labels): string {
  return JSON.stringify(names.map((name) => labels[name] ?? ""));
}

interface Metric {
  render(): string;
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n# TYPE ${name} ${type}\n`;
}

export class Counter implements Metric {
  private readonly series = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly labelNames: readonly string[] = [],
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = seriesKey(this.labelNames, labels);
    const entry = this.series.get(key);
    if (entry) entry.value += by;
    else this.series.set(key, { labels, value: by });
  }

  render(): string {
    let text = header(this.name, this.help, "counter");
    if (this.labelNames.length === 0 && this.series.size === 0) text += `${this.name} 0\n`;
    for (const { labels, value } of this.series.values()) text += `${this.name}${labelText(labels)} ${value}\n`;
    return text;
  }
}

export class Gauge implements Metric {
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly read: () => number,
  ) {}

  render(): string {
    return `${header(this.name, this.help, "gauge")}${this.name} ${this.read()}\n`;
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly buckets: readonly number[],
  ) {}

  observe(labels: Labels, value: number): void {
    const key = seriesKey(this.labelNames, labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    for (const [index, bound] of this.buckets.entries()) if (value <= bound) entry.counts[index] = (entry.counts[index] ?? 0) + 1;
    entry.sum += value;
    entry.count++;
  }

  render(): string {
    let text = header(this.name, this.help, "histogram");
    for (const { labels, counts, sum, count } of this.series.values()) {
      for (const [index, bound] of this.buckets.entries())
        text += `${this.name}_bucket${labelText({ ...labels, le: String(bound) })} ${counts[index]}\n`;
      text += `${this.name}_bucket${labelText({ ...labels, le: "+Inf" })} ${count}\n`;
      text += `${this.name}_sum${labelText(labels)} ${sum}\n`;
      text += `${this.name}_count${labelText(labels)} ${count}\n`;
    }
    return text;
  }
}

/** The metrics the agent exposes, rendered in registration order. */
export class Registry {
  private readonly metrics: Metric[] = [];

  register<T extends Metric>(metric: T): T {
    this.metrics.push(metric);
    return metric;
  }

  render(): string {
    return this.metrics.map((metric) => metric.render()).join("");
  }
}
