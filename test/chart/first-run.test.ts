/**
 * The chart's defaults that were wrong for a compile farm, rendered by Helm 3.17 and Helm 4:
 * both ports on `::`, the stats pages' own allow list, NetworkPolicy only where it can work
 * (and with masks, and in-cluster peers), a helm test pod no selector adopts, NOTES that print
 * a working DISTCC_HOSTS command, `global` from a parent chart, and plain manifests without
 * Helm's bookkeeping.
 */
import { describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { CHART, find, HELM_VERSIONS, helm, type K8sObject, ROOT, render, renderError, renderNotes } from "../helpers/helm.ts";
import { validateObject } from "./kubernetes-schema.ts";

const args = (objects: K8sObject[]) => find(objects, "DaemonSet").spec.template.spec.containers[0].args as string[];
const valuesOf = (list: string[], flag: string) => list.filter((_arg, i) => list[i - 1] === flag);
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe.each(HELM_VERSIONS)("Helm %d", (version) => {
  test("both ports listen on :: (IPv4 clients arrive IPv4-mapped), or on distccd.listen", () => {
    expect(valuesOf(args(render(version)), "--listen")).toEqual(["::"]);
    expect(valuesOf(args(render(version, { distccd: { listen: "0.0.0.0" } })), "--listen")).toEqual(["0.0.0.0"]);
  });

  test("distccd.stats.allow renders one --stats-allow each; without it the agent uses the --allow list", () => {
    expect(valuesOf(args(render(version)), "--stats-allow")).toEqual([]);
    const objects = render(version, { distccd: { allow: ["10.1.0.0/16"], stats: { allow: ["10.244.0.0/16", "fd00:10:244::/56"] } } });
    expect(valuesOf(args(objects), "--stats-allow")).toEqual(["10.244.0.0/16", "fd00:10:244::/56"]);
    expect(valuesOf(args(render(version, { distccd: { stats: { enabled: false, allow: ["10.0.0.0/8"] } } })), "--stats-allow")).toEqual([]);
  });

  test("the helm test pod carries labels no selector of the release matches", () => {
    const objects = render(version, { networkPolicy: { enabled: true } });
    const pod = find(objects, "Pod");
    const selectors = [
      find(objects, "DaemonSet").spec.selector.matchLabels,
      find(objects, "Service", "distcc").spec.selector,
      find(objects, "Service", "distcc-headless").spec.selector,
      find(objects, "NetworkPolicy").spec.podSelector.matchLabels,
    ] as Record<string, string>[];
    for (const selector of selectors)
      expect({ selector, matches: matches(selector, pod.metadata.labels) }).toEqual({ selector, matches: false });
    // The agents themselves still match every one.
    const agentLabels = find(objects, "DaemonSet").spec.template.metadata.labels;
    for (const selector of selectors) expect(matches(selector, agentLabels)).toBe(true);
    expect(pod.metadata.labels?.["app.kubernetes.io/instance"]).toBe("distcc");
  });

  test("the helm test pod tolerates what the agents tolerate, so it schedules where they run", () => {
    const objects = render(version);
    expect(find(objects, "Pod").spec.tolerations).toEqual(find(objects, "DaemonSet").spec.template.spec.tolerations);
  });

  test("tests.compiler and tests.expectMachine reach the probe", () => {
    const pod = find(render(version, { tests: { compiler: "powerpc-unknown-linux-gnu-g++", expectMachine: "" } }), "Pod");
    const command = pod.spec.containers[0].command as string[];
    expect(command.slice(3, 5)).toEqual(["--compiler", "powerpc-unknown-linux-gnu-g++"]);
    expect(command).not.toContain("--expect-machine");
  });

  describe("NetworkPolicy", () => {
    test.each<[string, unknown, string]>([
      [
        "hostNetwork",
        { networkPolicy: { enabled: true }, hostNetwork: true },
        "networkPolicy.enabled with hostNetwork: NetworkPolicies do not apply to pods on the node's network",
      ],
      [
        "a NodePort with externalTrafficPolicy Cluster",
        { networkPolicy: { enabled: true }, service: { externalTrafficPolicy: "Cluster" } },
        "networkPolicy.enabled with service.type NodePort and externalTrafficPolicy Cluster: clients arrive with node addresses",
      ],
      [
        "a LoadBalancer with externalTrafficPolicy Cluster",
        { networkPolicy: { enabled: true }, service: { type: "LoadBalancer", externalTrafficPolicy: "Cluster" } },
        "networkPolicy.enabled with service.type LoadBalancer and externalTrafficPolicy Cluster",
      ],
    ])("fails to render with %s, saying why", (_name, values, message) => {
      expect(renderError(version, values)).toContain(message);
    });

    test("a ClusterIP Service has no traffic policy to spoil it", () => {
      const objects = render(version, {
        networkPolicy: { enabled: true },
        service: { type: "ClusterIP", externalTrafficPolicy: "Cluster" },
      });
      expect(find(objects, "NetworkPolicy").spec.podSelector).toBeDefined();
    });

    test("bare addresses get a mask, and in-cluster peers join the allowed sources", () => {
      const peer = {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ci" } },
        podSelector: { matchLabels: { role: "builder" } },
      };
      const objects = render(version, {
        networkPolicy: { enabled: true, from: [peer] },
        distccd: { allow: ["10.1.2.3", "fd00::7", "10.8.0.0/16"] },
        tests: { enabled: false },
      });
      const policy = find(objects, "NetworkPolicy");
      expect(policy.spec.ingress[0].from).toEqual([
        { ipBlock: { cidr: "10.1.2.3/32" } },
        { ipBlock: { cidr: "fd00::7/128" } },
        { ipBlock: { cidr: "10.8.0.0/16" } },
        peer,
      ]);
      validateObject(policy);
    });
  });

  test("loadBalancerSourceRanges get masks too, given or from distccd.allow", () => {
    const lb = (values: object) => find(render(version, { service: { type: "LoadBalancer", ...values } }), "Service", "distcc").spec;
    expect(lb({}).loadBalancerSourceRanges).toEqual(["0.0.0.0/0"]);
    expect(
      find(render(version, { service: { type: "LoadBalancer" }, distccd: { allow: ["192.0.2.7", "2001:db8::1"] } }), "Service", "distcc")
        .spec.loadBalancerSourceRanges,
    ).toEqual(["192.0.2.7/32", "2001:db8::1/128"]);
    expect(lb({ loadBalancerSourceRanges: ["198.51.100.9"] }).loadBalancerSourceRanges).toEqual(["198.51.100.9/32"]);
  });

  test("the schema allows `global`, which Helm gives every subchart", () => {
    expect(render(version, { global: { imageRegistry: "registry.example" } }).length).toBeGreaterThan(3);
    // As a real subchart: a parent chart that depends on this one, with a global value.
    const parent = mkdtempSync(join(tmpdir(), "parent-chart-"));
    mkdirSync(join(parent, "charts"));
    cpSync(CHART, join(parent, "charts/distcc"), { recursive: true });
    writeFileSync(
      join(parent, "Chart.yaml"),
      "apiVersion: v2\nname: build-farm\nversion: 1.0.0\ndependencies:\n  - name: distcc\n    version: 0.3.0\n",
    );
    writeFileSync(join(parent, "values.yaml"), "global:\n  team: build\ndistcc:\n  distccd:\n    allow: [10.0.0.0/8]\n");
    const run = helm(version, ["template", "farm", parent, "--namespace", "build"]);
    expect({ exitCode: run.exitCode, stderr: run.stderr }).toEqual({ exitCode: 0, stderr: "" });
    const daemonSet = parseAllDocuments(run.stdout)
      .map((doc) => doc.toJS() as K8sObject)
      .find((o) => o?.kind === "DaemonSet");
    expect(valuesOf(daemonSet?.spec.template.spec.containers[0].args, "--allow")).toEqual(["10.0.0.0/8"]);
  });

  describe("NOTES", () => {
    const notes = (values?: unknown) => renderNotes(version, values);
    const commands = (text: string) => text.slice(text.indexOf("\n\n  ") + 3, text.indexOf("\n\nAdd"));

    test.each<[string, unknown]>([
      ["NodePort", {}],
      ["NodePort with jobs", { distccd: { jobs: 6 } }],
      ["LoadBalancer", { service: { type: "LoadBalancer" }, distccd: { allow: ["10.0.0.0/8"] } }],
      ["LoadBalancer with jobs", { service: { type: "LoadBalancer" }, distccd: { allow: ["10.0.0.0/8"], jobs: 6 } }],
      ["ClusterIP", { service: { type: "ClusterIP" } }],
      ["NodePort without peers", { distccd: { peers: { enabled: false } } }],
      ["ClusterIP without peers", { service: { type: "ClusterIP" }, distccd: { peers: { enabled: false } } }],
    ])("%s: no literal /N, and the printed commands pass bash -n and shellcheck", (_name, values) => {
      const text = notes(values);
      expect(text).not.toMatch(/\/N\b/);
      const script = commands(text);
      const file = join(mkdtempSync(join(tmpdir(), "notes-")), "notes.sh");
      writeFileSync(file, `#!/usr/bin/env bash\n${script}\n`);
      expect(Bun.spawnSync(["bash", "-n", file]).exitCode).toBe(0);
      // SC2155: `export X="$(...)"` is the one line a user pastes; its exit status is not the point.
      const check = Bun.spawnSync(["shellcheck", "--shell=bash", "--severity=warning", "--exclude=SC2155", file]);
      expect(check.stdout.toString()).toBe("");
    });

    test("NodePort without peers lists the nodes that run an agent (status.hostIP of its pods), not every node", () => {
      const text = notes({ distccd: { peers: { enabled: false } } });
      expect(text).toContain("get pods -l app.kubernetes.io/name=distcc,app.kubernetes.io/instance=distcc");
      expect(text).toContain("{.status.hostIP} {.spec.nodeName}");
      expect(text).not.toContain("InternalIP");
    });

    test("without distccd.jobs (and peers) each node's slots are its allocatable CPUs + 2, as the agent's default", () => {
      const text = notes({ distccd: { peers: { enabled: false } } });
      expect(text).toContain(`cpu=$(kubectl get node "$node" -o jsonpath='{.status.allocatable.cpu}')`);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell text, whose parameter expansions are written ${...}.
      expect(text).toContain("case $cpu in *m) cpu=$(( ${cpu%m} / 1000 ));; esac; slots=$(( cpu + 2 ))");
    });

    test("a LoadBalancer entry gets the whole farm's slots", () => {
      const text = notes({ service: { type: "LoadBalancer" }, distccd: { allow: ["10.0.0.0/8"], jobs: 6 } });
      expect(text).toContain("awk '{ total += $1 } END { print total }'");
      expect(text).toContain('export DISTCC_HOSTS="$LB:3632/$SLOTS,lzo"');
    });

    test("names the stats allow list and what helm test does", () => {
      const text = notes({ distccd: { allow: ["10.0.0.0/8"], stats: { allow: ["10.244.0.0/16"] } } });
      expect(text).toContain("Stats pages and /metrics allowed (--stats-allow): 10.244.0.0/16");
      expect(text).toContain("helm test distcc -n build` compiles a C file through the Service");
    });
  });
});

describe("the plain manifests", () => {
  const files = readdirSync(join(ROOT, "manifests")).sort();
  const objects = (name: string) =>
    parseAllDocuments(readFileSync(join(ROOT, "manifests", name), "utf8"))
      .map((doc) => doc.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);

  test.each(files)("%s: no Helm-only labels, no namespace (kubectl -n picks it), valid objects", (name) => {
    const text = readFileSync(join(ROOT, "manifests", name), "utf8");
    expect(text).not.toContain("helm.sh/chart");
    expect(text).not.toContain("app.kubernetes.io/managed-by");
    expect(text).not.toMatch(/^\s+namespace:/m);
    for (const object of objects(name)) validateObject(object);
  });

  test.each(files)("%s starts with the allow range it admits", (name) => {
    const head = readFileSync(join(ROOT, "manifests", name), "utf8").split("\n---")[0] ?? "";
    expect(head).toContain("# Compile clients allowed: 0.0.0.0/0, that is anyone who can reach the nodes.");
    expect(head).toContain("--set 'distccd.allow={10.0.0.0/8}'");
    if (name === "distcc-lb.yaml") expect(head).toContain("loadBalancerSourceRanges");
  });

  test("the DaemonSet's selector still matches its pods, and the Service selects them", () => {
    const all = objects("distcc-deploy-nodePort.yml");
    const daemonSet = find(all, "DaemonSet");
    expect(matches(daemonSet.spec.selector.matchLabels, daemonSet.spec.template.metadata.labels)).toBe(true);
    expect(matches(find(all, "Service").spec.selector, daemonSet.spec.template.metadata.labels)).toBe(true);
  });
});
