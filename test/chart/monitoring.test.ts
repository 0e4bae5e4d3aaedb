/**
 * The chart's Grafana dashboard (a ConfigMap for Grafana's sidecar) and its PrometheusRule, as
 * rendered by Helm 3.17 and Helm 4; test/monitoring runs them against a real Prometheus.
 */
import { describe, expect, test } from "bun:test";
import { CHART, find, HELM_VERSIONS, helm, render, renderError, renderNotes, valuesFile } from "../helpers/helm.ts";
import { validateObject } from "./kubernetes-schema.ts";

const ALERTS = ["DistccAgentDown", "DistccRefusalsClimbing", "DistccSlotsSaturated", "DistccCacheRedisErrors"];

describe.each(HELM_VERSIONS)("Helm %d", (version) => {
  test("off by default", () => {
    const kinds = render(version).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).not.toContain("ConfigMap/distcc-dashboard");
    expect(kinds.some((kind) => kind.startsWith("PrometheusRule/"))).toBe(false);
  });

  test("dashboards.enabled: the dashboard's JSON in a ConfigMap with the sidecar's label", () => {
    const objects = render(version, { dashboards: { enabled: true } });
    const map = find(objects, "ConfigMap", "distcc-dashboard");
    validateObject(map);
    expect(map.metadata.namespace).toBe("build");
    expect(map.metadata.labels?.grafana_dashboard).toBe("1");
    const dashboard = JSON.parse(map.data?.["distcc.json"] ?? "");
    expect(dashboard).toMatchObject({ uid: "distcc-agent", title: "distcc farm" });
    expect(dashboard.templating.list.map((variable: { name: string }) => variable.name)).toEqual(["datasource", "job", "instance"]);
    const exprs: string[] = dashboard.panels.flatMap((panel: { targets: { expr: string }[] }) => panel.targets.map((t) => t.expr));
    expect(exprs.some((expr) => expr.includes("distccd_job_phase_seconds_bucket"))).toBe(true);
    expect(exprs.every((expr) => expr.includes('job=~"$job", instance=~"$instance"'))).toBe(true);
    // Grafana needs unique panel ids; panels on a 24-column grid must not overlap.
    const panels: { id: number; gridPos: { x: number; y: number; w: number; h: number } }[] = dashboard.panels;
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
    for (const [i, a] of panels.entries()) {
      expect(a.gridPos.x + a.gridPos.w).toBeLessThanOrEqual(24);
      for (const b of panels.slice(i + 1)) {
        const apart =
          a.gridPos.x + a.gridPos.w <= b.gridPos.x ||
          b.gridPos.x + b.gridPos.w <= a.gridPos.x ||
          a.gridPos.y + a.gridPos.h <= b.gridPos.y ||
          b.gridPos.y + b.gridPos.h <= a.gridPos.y;
        expect({ a: a.id, b: b.id, apart }).toEqual({ a: a.id, b: b.id, apart: true });
      }
    }
  });

  test("the sidecar's label, annotations and namespace can be changed", () => {
    const values = {
      dashboards: {
        enabled: true,
        labels: { grafana_dashboard: "distcc" },
        annotations: { grafana_folder: "Builds" },
        namespace: "monitoring",
      },
    };
    const map = find(render(version, values), "ConfigMap", "distcc-dashboard");
    expect(map.metadata).toMatchObject({ namespace: "monitoring", annotations: { grafana_folder: "Builds" } });
    expect(map.metadata.labels?.grafana_dashboard).toBe("distcc");
  });

  test("prometheusRule.enabled: four alerts on the ServiceMonitor's job, thresholds from values", () => {
    const objects = render(version, {
      prometheusRule: { enabled: true, labels: { release: "prometheus" }, refusalsPerMinute: 12, saturatedFor: "15m", severity: "page" },
    });
    const rule = find(objects, "PrometheusRule", "distcc");
    validateObject(rule);
    expect(rule.metadata.labels?.release).toBe("prometheus");
    const rules = rule.spec.groups[0].rules as { alert: string; expr: string; for: string; labels: Record<string, string> }[];
    expect(rules.map((r) => r.alert)).toEqual(ALERTS);
    for (const r of rules) {
      expect(r.expr).toContain('{job="distcc-headless"}');
      expect(r.labels).toEqual({ severity: "page" });
    }
    expect(rules[1]?.expr).toEndWith("* 60 > 12");
    expect(rules[2]?.for).toBe("15m");
    expect(rules[3]?.expr).toContain("distccd_cache_redis_errors_total");
  });

  test("prometheusRule.selector replaces the job matcher", () => {
    const rule = find(render(version, { prometheusRule: { enabled: true, selector: 'app="distcc", env="ci"' } }), "PrometheusRule");
    expect(rule.spec.groups[0].rules[0].expr).toBe('up{app="distcc", env="ci"} == 0 or absent(up{app="distcc", env="ci"})');
  });

  test("NOTES tell how to open the live monitor, when the stats port is on", () => {
    expect(renderNotes(version)).toContain("port-forward ds/distcc 3633\n  open http://127.0.0.1:3633/ui");
    expect(renderNotes(version, { distccd: { stats: { enabled: false } } })).not.toContain("/ui");
  });

  test("helm lint --strict passes with both on", () => {
    const values = valuesFile({ dashboards: { enabled: true }, prometheusRule: { enabled: true }, serviceMonitor: { enabled: true } });
    const run = helm(version, ["lint", "--strict", CHART, "-f", values]);
    expect({ exitCode: run.exitCode, output: run.exitCode === 0 ? "" : run.stdout + run.stderr }).toEqual({ exitCode: 0, output: "" });
  });

  test.each<[string, unknown, string | RegExp]>([
    [
      "a dashboard without stats",
      { dashboards: { enabled: true }, distccd: { stats: { enabled: false } } },
      "dashboards.enabled needs distccd.stats.enabled",
    ],
    [
      "alerts without stats",
      { prometheusRule: { enabled: true }, distccd: { stats: { enabled: false } } },
      "prometheusRule.enabled needs distccd.stats.enabled",
    ],
    ["a duration that is not one", { prometheusRule: { downFor: "five minutes" } }, /downFor/],
    ["an unknown key", { dashboards: { label: "grafana_dashboard" } }, /label/],
  ])("fails on %s with a clear message", (_name, values, message) => {
    expect(renderError(version, values)).toMatch(message);
  });
});
