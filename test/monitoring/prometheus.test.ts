/**
 * The chart's dashboard and alerts against a real Prometheus (Debian's, on loopback, in its own
 * temp dir, scraping every second): `promtool check rules` passes for the PrometheusRule's
 * rules, `promtool test rules` shows each alert firing on the series that should fire it, the
 * rules evaluate in Prometheus, and every expression of the dashboard returns data after a small
 * build through the agent.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { type Agent, freePort, startAgent } from "../../agent/test/helpers/agent.ts";
import { compileRequest, exchange, parseReply } from "../../agent/test/helpers/tokens.ts";
import { GCC } from "../../agent/test/helpers/toolchain.ts";
import { until } from "../../agent/test/helpers/wait.ts";
import { find, render } from "../helpers/helm.ts";

const JOB = "distcc-agent";
const objects = render(4, { dashboards: { enabled: true }, prometheusRule: { enabled: true, selector: `job="${JOB}"` } });
const rule = find(objects, "PrometheusRule");
const dashboard = JSON.parse(find(objects, "ConfigMap", "distcc-dashboard").data?.["distcc.json"] ?? "{}");

interface Target {
  readonly panel: string;
  readonly expr: string;
}
const targets: Target[] = dashboard.panels.flatMap((panel: { title: string; targets: { expr: string }[] }) =>
  panel.targets.map((target) => ({ panel: panel.title, expr: target.expr })),
);

/** Grafana's variables as "All" and a rate window that fits a one-second scrape. */
function substitute(expr: string): string {
  return expr.replaceAll("$__rate_interval", "1m").replaceAll("$job", ".+").replaceAll("$instance", ".+");
}

const dir = mkdtempSync(join(tmpdir(), "prometheus-"));
const rulesFile = join(dir, "rules.yaml");
writeFileSync(rulesFile, stringify({ groups: rule.spec.groups }));

function promtool(args: string[]) {
  const run = Bun.spawnSync(["promtool", ...args], { cwd: dir });
  return { exitCode: run.exitCode, output: run.stdout.toString() + run.stderr.toString() };
}

/** An alert's labels and its annotations as Prometheus expands them for those labels (and value). */
function firing(alert: string, labels: Record<string, string>, value = "") {
  // biome-ignore lint/suspicious/noExplicitAny: the rendered PrometheusRule's YAML.
  const annotations: Record<string, string> = rule.spec.groups[0].rules.find((r: any) => r.alert === alert).annotations;
  const expand = (text: string) =>
    text
      .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => labels[name] ?? "")
      .replace(/\{\{ or \$labels\.(\w+) "([^"]*)" \}\}/g, (_, name: string, otherwise: string) => labels[name] ?? otherwise)
      .replace("{{ $value | humanize }}", value);
  return {
    exp_labels: { severity: "warning", ...labels },
    exp_annotations: Object.fromEntries(Object.entries(annotations).map(([key, text]) => [key, expand(text)])),
  };
}

describe("the PrometheusRule", () => {
  test("promtool check rules passes", () => {
    const run = promtool(["check", "rules", rulesFile]);
    expect(run).toEqual({ exitCode: 0, output: expect.stringContaining("SUCCESS: 4 rules found") });
  });

  test("each alert fires on the series that should fire it, and only on those", () => {
    const series = (name: string, values: string) => ({ series: `${name}{job="${JOB}", instance="a:3633"}`, values });
    const tests = [
      {
        interval: "1m",
        input_series: [
          { series: `up{job="${JOB}", instance="a:3633"}`, values: "0x10" },
          { series: `up{job="${JOB}", instance="b:3633"}`, values: "1x10" },
        ],
        alert_rule_test: [
          { eval_time: "3m", alertname: "DistccAgentDown", exp_alerts: [] },
          { eval_time: "6m", alertname: "DistccAgentDown", exp_alerts: [firing("DistccAgentDown", { job: JOB, instance: "a:3633" })] },
        ],
      },
      {
        interval: "1m",
        input_series: [{ series: `up{job="other"}`, values: "1x10" }],
        alert_rule_test: [
          {
            eval_time: "6m",
            alertname: "DistccAgentDown",
            exp_alerts: [firing("DistccAgentDown", { job: JOB })],
          },
        ],
      },
      {
        interval: "1m",
        input_series: [{ series: `distccd_refusals_total{job="${JOB}", instance="a:3633", reason="access-list"}`, values: "0+60x20" }],
        alert_rule_test: [
          { eval_time: "5m", alertname: "DistccRefusalsClimbing", exp_alerts: [] },
          {
            eval_time: "16m",
            alertname: "DistccRefusalsClimbing",
            exp_alerts: [firing("DistccRefusalsClimbing", { instance: "a:3633", reason: "access-list" }, "60")],
          },
        ],
      },
      {
        interval: "1m",
        input_series: [series("distccd_jobs_active", "4x30"), series("distccd_jobs_max", "4x30"), series("distccd_jobs_queued", "1+1x30")],
        alert_rule_test: [
          {
            eval_time: "20m",
            alertname: "DistccSlotsSaturated",
            exp_alerts: [firing("DistccSlotsSaturated", { job: JOB, instance: "a:3633" })],
          },
        ],
      },
      {
        interval: "1m",
        input_series: [series("distccd_jobs_active", "4x30"), series("distccd_jobs_max", "4x30"), series("distccd_jobs_queued", "5x30")],
        alert_rule_test: [{ eval_time: "20m", alertname: "DistccSlotsSaturated", exp_alerts: [] }],
      },
      {
        interval: "1m",
        input_series: [series("distccd_cache_redis_errors_total", "0+3x20")],
        alert_rule_test: [
          {
            eval_time: "10m",
            alertname: "DistccCacheRedisErrors",
            exp_alerts: [firing("DistccCacheRedisErrors", { instance: "a:3633" })],
          },
        ],
      },
    ];
    const testFile = join(dir, "alerts-test.yaml");
    writeFileSync(testFile, stringify({ rule_files: [rulesFile], evaluation_interval: "1m", tests }));
    const run = promtool(["test", "rules", testFile]);
    expect(run).toEqual({ exitCode: 0, output: expect.stringContaining("SUCCESS") });
  });
});

describe("a real Prometheus scraping an agent", () => {
  let agent: Agent;
  let prometheus: ReturnType<typeof Bun.spawn>;
  let api: string;
  const query = async (expr: string) => {
    const response = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await response.json()) as {
      status: string;
      error?: string;
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
  };

  beforeAll(async () => {
    const statsPort = freePort();
    agent = await startAgent({ args: ["--stats", "--stats-port", String(statsPort)] });
    const port = freePort();
    api = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, "prometheus.yml"),
      stringify({
        global: { scrape_interval: "1s", evaluation_interval: "1s" },
        rule_files: [rulesFile],
        scrape_configs: [{ job_name: JOB, static_configs: [{ targets: [`127.0.0.1:${statsPort}`] }] }],
      }),
    );
    prometheus = Bun.spawn(
      [
        "prometheus",
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { cwd: dir, stdout: "ignore", stderr: "pipe" },
    );
    await until(async () => (await fetch(`${api}/-/ready`).catch(() => undefined))?.status === 200, "Prometheus to be ready", 30_000);
  });
  afterAll(async () => {
    prometheus?.kill();
    await prometheus?.exited;
    await agent?.[Symbol.asyncDispose]();
  });

  test("after a small build, every expression of the dashboard returns data, and the rules evaluate", async () => {
    const compile = async (name: string) => {
      const source = `int ${name}(int x) { return x + 1; }\n`;
      const reply = await exchange(agent.port, compileRequest(2, [GCC, "-O2", "-c", `${name}.c`, "-o", `${name}.o`], source));
      expect(parseReply(reply).status).toBe(0);
    };
    // A build spans scrapes: the first job's series are there before the rest count up.
    await compile("first");
    await until(
      async () => (await query(`sum(distccd_jobs_total{job="${JOB}"})`)).data.result[0]?.value[1] === "1",
      "a scrape of the first job",
      20_000,
    );
    for (const name of ["shapes", "units", "more"]) await compile(name);
    expect(parseReply(await exchange(agent.port, compileRequest(1, [GCC, "-c", "bad.c", "-o", "bad.o"], "int x = ;\n"))).status).toBe(
      1 << 8,
    );
    await exchange(agent.port, compileRequest(2, ["/bin/sh", "-c", "evil.c", "-o", "evil.o"], "int y;\n"));
    // The build shows in a scrape, and a few more follow so every rate has its points.
    await until(
      async () => (await query(`sum(distccd_jobs_total{job="${JOB}"})`)).data.result[0]?.value[1] === "6",
      "a scrape after the build",
      20_000,
    );
    await until(
      async () => Number((await query(`count_over_time(up{job="${JOB}"}[1m])`)).data.result[0]?.value[1] ?? 0) >= 5,
      "a few scrapes",
    );

    expect(targets.length).toBeGreaterThan(10);
    for (const { panel, expr } of targets) {
      const answer = await query(substitute(expr));
      const values = answer.data?.result.map((sample) => Number(sample.value[1])) ?? [];
      expect({ panel, expr, status: answer.status, error: answer.error, hasData: values.some(Number.isFinite) }).toEqual({
        panel,
        expr,
        status: "success",
        error: undefined,
        hasData: true,
      });
    }
    // The template variables' label_values() queries find the agent too.
    const series = (await (await fetch(`${api}/api/v1/series?match[]=distccd_jobs_max`)).json()) as { data: Record<string, string>[] };
    expect(series.data).toEqual([expect.objectContaining({ job: JOB, instance: expect.stringMatching(/^127\.0\.0\.1:\d+$/) })]);

    let rules: { name: string; health: string; lastError?: string }[] = [];
    await until(async () => {
      const answer = (await (await fetch(`${api}/api/v1/rules`)).json()) as { data: { groups: { rules: typeof rules }[] } };
      rules = answer.data.groups.flatMap((group) => group.rules);
      return rules.length === 4 && rules.every((r) => r.health !== "unknown");
    }, "the rules' first evaluation");
    expect(rules.map((r) => ({ name: r.name, health: r.health, lastError: r.lastError ?? "" }))).toEqual(
      ["DistccAgentDown", "DistccRefusalsClimbing", "DistccSlotsSaturated", "DistccCacheRedisErrors"].map((name) => ({
        name,
        health: "ok",
        lastError: "",
      })),
    );
  });
});
