/**
 * The chart, rendered by the real Helm 3.17 and Helm 4 for every scenario and for each value,
 * asserted on the parsed objects as helm-unittest would (equal, contains, failedTemplate), with
 * every object validated against the Kubernetes schema.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CHART, find, HELM_VERSIONS, helm, type K8sObject, ROOT, render, renderError, renderNotes } from "../helpers/helm.ts";
import { validateObject } from "./kubernetes-schema.ts";

const SCENARIOS = readdirSync(join(ROOT, "ci/values"))
  .filter((name) => name.endsWith("-values.yaml"))
  .sort();
const scenario = (name: string) => join(ROOT, "ci/values", name);
const APP_VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;

const daemonSet = (objects: K8sObject[]) => find(objects, "DaemonSet");
const container = (objects: K8sObject[]) => daemonSet(objects).spec.template.spec.containers[0];
const args = (objects: K8sObject[]) => container(objects).args as string[];
const service = (objects: K8sObject[]) => find(objects, "Service", "distcc");

test("the scenarios cover the chart's main choices", () => {
  expect(SCENARIOS).toEqual(
    expect.arrayContaining([
      "nodeport-values.yaml",
      "loadbalancer-values.yaml",
      "clusterip-values.yaml",
      "hardened-values.yaml",
      "custom-allow-whitelist-values.yaml",
      "hostnetwork-values.yaml",
    ]),
  );
});

describe.each(HELM_VERSIONS)("Helm %d", (version) => {
  test("helm lint --strict passes with every scenario", () => {
    for (const name of SCENARIOS) {
      const run = helm(version, ["lint", "--strict", CHART, "-f", scenario(name)]);
      expect({ name, exitCode: run.exitCode, output: run.exitCode === 0 ? "" : run.stdout + run.stderr }).toEqual({
        name,
        exitCode: 0,
        output: "",
      });
    }
  });

  test.each(SCENARIOS)("%s renders only objects valid for Kubernetes", (name) => {
    const objects = render(version, undefined, [scenario(name)]);
    expect(objects.length).toBeGreaterThan(3);
    for (const object of objects) validateObject(object);
  });

  describe("defaults", () => {
    const objects = render(version);

    test("one DaemonSet with its ConfigMap, ServiceAccount, Services and test pod", () => {
      expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
        "ConfigMap/distcc-whitelist",
        "DaemonSet/distcc",
        "Pod/distcc-test-connection",
        "Service/distcc",
        "Service/distcc-headless",
        "ServiceAccount/distcc",
      ]);
      expect(objects.every((o) => o.metadata.namespace === "build")).toBe(true);
    });

    test("the agent runs the image's command line plus one flag per value", () => {
      expect(args(objects)).toEqual([
        "--daemon",
        "--no-fork",
        "--log-stderr",
        "--listen",
        "::",
        "--port",
        "3632",
        "--allow",
        "0.0.0.0/0",
        "--stats",
        "--stats-port",
        "3633",
        "--nice",
        "5",
        "--sandbox",
        "auto",
        "--log-level",
        "notice",
        "--shutdown-grace",
        "20",
        "--peers",
        "distcc-headless.build.svc:3633",
        "--peers-interval",
        "5",
        "--advertise",
        "[$(NODE_IP)]:30362",
        "--drain-delay",
        "5",
        "--keepalive",
        "60",
      ]);
    });

    test("the image defaults to the app version, pulled with ghcr-creds", () => {
      expect(container(objects).image).toBe(`ghcr.io/distcc-agent/distcc:${APP_VERSION}`);
      expect(container(objects).imagePullPolicy).toBe("IfNotPresent");
      expect(daemonSet(objects).spec.template.spec.imagePullSecrets).toEqual([{ name: "ghcr-creds" }]);
    });

    test("one agent per node, control-plane nodes included", () => {
      const spec = daemonSet(objects).spec;
      expect(spec.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
      expect(spec.template.spec.tolerations).toEqual([
        { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
        { key: "node-role.kubernetes.io/master", operator: "Exists", effect: "NoSchedule" },
      ]);
      expect(spec.template.spec.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
      expect(spec.template.spec.hostNetwork).toBeUndefined();
      expect(spec.template.spec.terminationGracePeriodSeconds).toBe(30);
    });

    test("a restricted pod: non-root, read-only root with /tmp on an emptyDir, no capabilities, no token", () => {
      const pod = daemonSet(objects).spec.template.spec;
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 3632, seccompProfile: { type: "RuntimeDefault" } });
      expect(container(objects).securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
      expect(container(objects).volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
      expect(pod.volumes).toContainEqual({ name: "tmp", emptyDir: { sizeLimit: "2Gi" } });
      expect(container(objects).resources).toEqual({ requests: { cpu: "100m", memory: "128Mi" }, limits: {} });
      expect(find(objects, "ServiceAccount").automountServiceAccountToken).toBe(false);
    });

    test("the whitelist is a ConfigMap mounted at /usr/lib/distcc/whitelist", () => {
      expect(find(objects, "ConfigMap").data?.whitelist).toBe(
        "# Compilers distccd may run, one name a line (chart value distccd.whitelist).\npowerpc-unknown-linux-gnu-gcc\npowerpc-unknown-linux-gnu-g++\n",
      );
      expect(container(objects).volumeMounts).toContainEqual({
        name: "whitelist",
        mountPath: "/usr/lib/distcc/whitelist",
        subPath: "whitelist",
        readOnly: true,
      });
      expect(daemonSet(objects).spec.template.metadata.annotations["checksum/whitelist"]).toMatch(/^[0-9a-f]{64}$/);
    });

    test("probes use the health endpoints on the stats port", () => {
      expect(container(objects).livenessProbe.httpGet).toEqual({ path: "/healthz", port: "stats" });
      expect(container(objects).readinessProbe.httpGet).toEqual({ path: "/readyz", port: "stats" });
      expect(container(objects).ports).toEqual([
        { name: "distcc", containerPort: 3632, protocol: "TCP" },
        { name: "stats", containerPort: 3633, protocol: "TCP" },
      ]);
    });

    test("a NodePort Service on 30362 that keeps client addresses, and the stats port (/hosts) on 30363", () => {
      expect(service(objects).spec).toMatchObject({
        type: "NodePort",
        externalTrafficPolicy: "Local",
        ports: [
          { name: "distcc", port: 3632, targetPort: "distcc", protocol: "TCP", nodePort: 30362 },
          { name: "stats", port: 3633, targetPort: "stats", protocol: "TCP", nodePort: 30363 },
        ],
      });
      expect(find(objects, "Service", "distcc-headless").spec.clusterIP).toBe("None");
    });

    test("the helm test pod compiles through the Service with the agent image's probe", () => {
      const pod = find(objects, "Pod");
      expect(pod.metadata.annotations?.["helm.sh/hook"]).toBe("test");
      expect(pod.spec.containers[0].image).toBe(container(objects).image);
      expect(pod.spec.imagePullSecrets).toEqual([{ name: "ghcr-creds" }]);
      expect(pod.spec.containers[0].command).toEqual([
        "/usr/bin/distccd",
        "probe",
        "distcc.build.svc:3632",
        "--compiler",
        "powerpc-unknown-linux-gnu-gcc",
        "--expect-machine",
        "PowerPC",
        "--timeout",
        "120",
      ]);
    });
  });

  test.each<[string, unknown, (objects: K8sObject[]) => void]>([
    [
      "image.registry, repository and tag",
      { image: { registry: "registry.example", repository: "me/distcc", tag: "1.2.3" } },
      (o) => expect(container(o).image).toBe("registry.example/me/distcc:1.2.3"),
    ],
    [
      "image.digest",
      { image: { digest: `sha256:${"a".repeat(64)}` } },
      (o) => expect(container(o).image).toBe(`ghcr.io/distcc-agent/distcc@sha256:${"a".repeat(64)}`),
    ],
    ["image.pullPolicy", { image: { pullPolicy: "Always" } }, (o) => expect(container(o).imagePullPolicy).toBe("Always")],
    ["imagePullSecrets", { imagePullSecrets: [] }, (o) => expect(daemonSet(o).spec.template.spec.imagePullSecrets).toBeUndefined()],
    [
      "distccd.allow",
      { distccd: { allow: ["10.1.0.0/16", "fd00::/8"] } },
      (o) => expect(args(o).join(" ")).toContain("--allow 10.1.0.0/16 --allow fd00::/8"),
    ],
    [
      "distccd.whitelist",
      { distccd: { whitelist: ["cc-a", "cc-b"] } },
      (o) => expect(find(o, "ConfigMap").data?.whitelist).toContain("\ncc-a\ncc-b\n"),
    ],
    ["distccd.jobs", { distccd: { jobs: 12 } }, (o) => expect(args(o).join(" ")).toContain("--jobs 12")],
    ["distccd.nice", { distccd: { nice: 10 } }, (o) => expect(args(o).join(" ")).toContain("--nice 10")],
    ["distccd.sandbox", { distccd: { sandbox: "required" } }, (o) => expect(args(o).join(" ")).toContain("--sandbox required")],
    ["distccd.logLevel", { distccd: { logLevel: "debug" } }, (o) => expect(args(o).join(" ")).toContain("--log-level debug")],
    ["distccd.verbose", { distccd: { verbose: true } }, (o) => expect(args(o)).toContain("--verbose")],
    [
      "distccd.port",
      { distccd: { port: 4000 } },
      (o) => {
        expect(args(o).join(" ")).toContain("--port 4000");
        expect(container(o).ports[0].containerPort).toBe(4000);
        expect(find(o, "Service", "distcc-headless").spec.ports[0].port).toBe(4000);
      },
    ],
    [
      "distccd.stats.enabled false",
      { distccd: { stats: { enabled: false } } },
      (o) => {
        expect(args(o)).not.toContain("--stats");
        expect(container(o).livenessProbe.tcpSocket).toEqual({ port: "distcc" });
        expect(container(o).readinessProbe.tcpSocket).toEqual({ port: "distcc" });
        expect(container(o).ports).toHaveLength(1);
      },
    ],
    ["distccd.stats.port", { distccd: { stats: { port: 9100 } } }, (o) => expect(args(o).join(" ")).toContain("--stats-port 9100")],
    [
      "distccd.extraArgs",
      { distccd: { extraArgs: ["--job-lifetime", "600"] } },
      (o) => expect(args(o).slice(-2)).toEqual(["--job-lifetime", "600"]),
    ],
    [
      "extraEnv",
      { extraEnv: [{ name: "DISTCCD_PATH", value: "/opt/cross/bin" }] },
      (o) =>
        expect(container(o).env).toEqual([
          { name: "NODE_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
          { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "DISTCCD_PATH", value: "/opt/cross/bin" },
        ]),
    ],
    ["tolerations", { tolerations: [] }, (o) => expect(daemonSet(o).spec.template.spec.tolerations).toBeUndefined()],
    [
      "affinity",
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: "distcc", operator: "In", values: ["true"] }] }],
            },
          },
        },
      },
      (o) =>
        expect(
          daemonSet(o).spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]
            .matchExpressions[0].key,
        ).toBe("distcc"),
    ],
    [
      "nodeSelector",
      { nodeSelector: { distcc: "true" } },
      (o) => expect(daemonSet(o).spec.template.spec.nodeSelector).toEqual({ "kubernetes.io/os": "linux", distcc: "true" }),
    ],
    [
      "priorityClassName",
      { priorityClassName: "build-critical" },
      (o) => expect(daemonSet(o).spec.template.spec.priorityClassName).toBe("build-critical"),
    ],
    [
      "updateStrategy",
      { updateStrategy: { type: "OnDelete", rollingUpdate: null } },
      (o) => expect(daemonSet(o).spec.updateStrategy).toEqual({ type: "OnDelete" }),
    ],
    [
      "terminationGracePeriodSeconds",
      { terminationGracePeriodSeconds: 120 },
      (o) => {
        expect(daemonSet(o).spec.template.spec.terminationGracePeriodSeconds).toBe(120);
        expect(args(o).join(" ")).toContain("--shutdown-grace 110");
      },
    ],
    [
      "podAnnotations",
      { podAnnotations: { "example.com/team": "build" } },
      (o) => expect(daemonSet(o).spec.template.metadata.annotations["example.com/team"]).toBe("build"),
    ],
    ["podLabels", { podLabels: { team: "build" } }, (o) => expect(daemonSet(o).spec.template.metadata.labels.team).toBe("build")],
    [
      "hostNetwork: the node's address and port, SO_REUSEPORT, and no declared (host) ports, so the surge pod fits beside the old one",
      { hostNetwork: true },
      (o) => {
        expect(daemonSet(o).spec.template.spec).toMatchObject({ hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" });
        expect(args(o).join(" ")).toContain("--advertise [$(NODE_IP)]:3632");
        expect(args(o)).toContain("--reuse-port");
        expect(container(o).ports).toBeUndefined();
        expect(container(o).readinessProbe.httpGet).toEqual({ path: "/readyz", port: 3633 });
        expect(service(o).spec.ports.map((p: { targetPort: number }) => p.targetPort)).toEqual([3632, 3633]);
        expect(find(o, "Service", "distcc-headless").spec.ports.map((p: { targetPort: number }) => p.targetPort)).toEqual([3632, 3633]);
      },
    ],
    [
      "service.type ClusterIP: the pod's address is advertised",
      { service: { type: "ClusterIP" } },
      (o) => {
        expect(args(o).join(" ")).toContain("--advertise [$(POD_IP)]:3632");
        expect(service(o).spec.ports[1]).toEqual({ name: "stats", port: 3633, targetPort: "stats", protocol: "TCP" });
      },
    ],
    [
      "distccd.advertise",
      { distccd: { advertise: "build.example:4000" } },
      (o) => expect(args(o).join(" ")).toContain("--advertise build.example:4000"),
    ],
    [
      "distccd.peers",
      { distccd: { peers: { interval: 2 } } },
      (o) => expect(args(o).join(" ")).toContain("--peers distcc-headless.build.svc:3633 --peers-interval 2"),
    ],
    ["distccd.peers.enabled false", { distccd: { peers: { enabled: false } } }, (o) => expect(args(o)).not.toContain("--peers")],
    [
      "distccd.drainDelay, keepalive and zeroconf",
      { distccd: { drainDelay: 10, keepalive: 30, zeroconf: true } },
      (o) => {
        expect(args(o).join(" ")).toContain("--shutdown-grace 15 --peers");
        expect(args(o).join(" ")).toContain("--drain-delay 10 --keepalive 30 --zeroconf");
      },
    ],
    ["service.statsNodePort", { service: { statsNodePort: 31363 } }, (o) => expect(service(o).spec.ports[1].nodePort).toBe(31363)],
    [
      "resources",
      { resources: { requests: { cpu: "1" }, limits: { memory: "1Gi" } } },
      (o) => expect(container(o).resources).toEqual({ requests: { cpu: "1", memory: "128Mi" }, limits: { memory: "1Gi" } }),
    ],
    [
      "service.type LoadBalancer: source ranges default to the allow list",
      { service: { type: "LoadBalancer" }, distccd: { allow: ["10.0.0.0/8"] } },
      (o) => {
        expect(service(o).spec).toMatchObject({
          type: "LoadBalancer",
          externalTrafficPolicy: "Local",
          loadBalancerSourceRanges: ["10.0.0.0/8"],
        });
        expect(service(o).spec.ports[0].nodePort).toBeUndefined();
      },
    ],
    [
      "service.type ClusterIP",
      { service: { type: "ClusterIP" } },
      (o) => {
        expect(service(o).spec.type).toBe("ClusterIP");
        expect(service(o).spec.externalTrafficPolicy).toBeUndefined();
        expect(service(o).spec.ports[0].nodePort).toBeUndefined();
      },
    ],
    ["service.port", { service: { port: 4632 } }, (o) => expect(service(o).spec.ports[0].port).toBe(4632)],
    ["service.nodePort", { service: { nodePort: 31000 } }, (o) => expect(service(o).spec.ports[0].nodePort).toBe(31000)],
    [
      "service.nodePort with a LoadBalancer",
      { service: { type: "LoadBalancer", nodePort: 31000 } },
      (o) => expect(service(o).spec.ports[0].nodePort).toBe(31000),
    ],
    [
      "service.externalTrafficPolicy",
      { service: { externalTrafficPolicy: "Cluster" } },
      (o) => expect(service(o).spec.externalTrafficPolicy).toBe("Cluster"),
    ],
    [
      "service.loadBalancerSourceRanges",
      { service: { type: "LoadBalancer", loadBalancerSourceRanges: ["203.0.113.0/24"] } },
      (o) => expect(service(o).spec.loadBalancerSourceRanges).toEqual(["203.0.113.0/24"]),
    ],
    [
      "service.annotations",
      { service: { annotations: { "example.com/lb": "internal" } } },
      (o) => expect(service(o).metadata.annotations).toEqual({ "example.com/lb": "internal" }),
    ],
    [
      "service.ipFamilyPolicy and ipFamilies",
      { service: { ipFamilyPolicy: "RequireDualStack", ipFamilies: ["IPv6", "IPv4"] } },
      (o) => expect(service(o).spec).toMatchObject({ ipFamilyPolicy: "RequireDualStack", ipFamilies: ["IPv6", "IPv4"] }),
    ],
    [
      "headlessService.enabled false",
      { headlessService: { enabled: false } },
      (o) => expect(o.find((x) => x.metadata.name === "distcc-headless")).toBeUndefined(),
    ],
    [
      "networkPolicy.enabled: compile traffic only from the allow list",
      { networkPolicy: { enabled: true }, distccd: { allow: ["10.1.0.0/16", "10.2.0.0/16"] } },
      (o) => {
        const policy = find(o, "NetworkPolicy");
        expect(policy.spec.ingress[0]).toEqual({
          from: [
            { ipBlock: { cidr: "10.1.0.0/16" } },
            { ipBlock: { cidr: "10.2.0.0/16" } },
            { podSelector: { matchLabels: { "app.kubernetes.io/name": "distcc-test", "app.kubernetes.io/instance": "distcc" } } },
          ],
          ports: [{ port: "distcc", protocol: "TCP" }],
        });
        expect(policy.spec.ingress[1]).toEqual({ ports: [{ port: "stats", protocol: "TCP" }] });
      },
    ],
    [
      "serviceMonitor.enabled",
      { serviceMonitor: { enabled: true, interval: "15s", labels: { release: "prometheus" } } },
      (o) => {
        const monitor = find(o, "ServiceMonitor");
        expect(monitor.metadata.labels?.release).toBe("prometheus");
        expect(monitor.spec.endpoints).toEqual([{ port: "stats", path: "/metrics", interval: "15s" }]);
        expect(monitor.spec.selector.matchLabels).toEqual(
          find(o, "Service", "distcc-headless").metadata.labels && { "app.kubernetes.io/part-of": "distcc-headless" },
        );
      },
    ],
    ["tests.enabled false", { tests: { enabled: false } }, (o) => expect(o.find((x) => x.kind === "Pod")).toBeUndefined()],
  ])("%s", (_name, values, check) => {
    const objects = render(version, values);
    check(objects);
    for (const object of objects) validateObject(object);
  });

  test("a whitelist change changes the checksum, so the pods roll", () => {
    const before = daemonSet(render(version)).spec.template.metadata.annotations["checksum/whitelist"];
    const after = daemonSet(render(version, { distccd: { whitelist: ["other-gcc"] } })).spec.template.metadata.annotations[
      "checksum/whitelist"
    ];
    expect(after).not.toBe(before);
  });

  test.each<[string, unknown, string]>([
    [
      "a nodePort with type ClusterIP",
      { service: { type: "ClusterIP", nodePort: 30000 } },
      "service.nodePort is set but service.type is ClusterIP",
    ],
    [
      "source ranges without a LoadBalancer",
      { service: { loadBalancerSourceRanges: ["10.0.0.0/8"] } },
      "service.loadBalancerSourceRanges is set but service.type is NodePort",
    ],
    [
      "a ServiceMonitor without stats",
      { serviceMonitor: { enabled: true }, distccd: { stats: { enabled: false } } },
      "serviceMonitor.enabled needs distccd.stats.enabled",
    ],
    [
      "a ServiceMonitor without the headless Service",
      { serviceMonitor: { enabled: true }, headlessService: { enabled: false } },
      "serviceMonitor.enabled needs headlessService.enabled",
    ],
  ])("fails on %s with a clear message", (_name, values, message) => {
    expect(renderError(version, values)).toContain(message);
  });

  test.each<[string, unknown, RegExp]>([
    ["a bad CIDR", { distccd: { allow: ["10.0.0.0/33"] } }, /allow/],
    ["an address that is not one", { distccd: { allow: ["example.com"] } }, /allow/],
    ["an empty allow list", { distccd: { allow: [] } }, /allow/],
    ["an unknown service type", { service: { type: "ExternalName" } }, /type/],
    ["an unknown key", { distcc: { allow: ["10.0.0.0/8"] } }, /distcc/],
    ["an unknown nested key", { service: { nodeport: 30000 } }, /nodeport/],
    ["a whitelist entry that is not a name", { distccd: { whitelist: ["gcc; rm -rf /"] } }, /whitelist/],
    ["a digest that is not sha256", { image: { digest: "latest" } }, /digest/],
    ["a port out of range", { distccd: { port: 70000 } }, /port/],
    ["a sandbox mode that is not one", { distccd: { sandbox: "sometimes" } }, /sandbox/],
  ])("the schema rejects %s", (_name, values, where) => {
    const error = renderError(version, values);
    expect(error).toContain("schema");
    expect(error).toMatch(where);
  });

  describe("NOTES", () => {
    const notes = (values?: unknown) => renderNotes(version, values);

    test("NodePort: DISTCC_HOSTS from any node's /hosts, and the allow list", () => {
      const text = notes({ distccd: { jobs: 8 } });
      expect(text).toContain('export DISTCC_HOSTS="$(curl -s http://$NODE:30363/hosts)"');
      expect(text).toContain("Add ?pump=1 to the /hosts URL");
      expect(text).toContain("Clients allowed (--allow): 0.0.0.0/0");
    });

    test("NodePort without peers: the DISTCC_HOSTS line with every agent's node, the node port and its slots", () => {
      const text = notes({ distccd: { jobs: 8, peers: { enabled: false } } });
      expect(text).toContain("slots=8");
      expect(text).toContain('printf \'%s:30362/%s,lzo \' "$ip" "$slots"');
      expect(text).not.toContain("/hosts");
    });

    test("a LoadBalancer open to 0.0.0.0/0 is warned about", () => {
      const text = notes({ service: { type: "LoadBalancer" } });
      expect(text).toContain("status.loadBalancer.ingress");
      expect(text).toContain("WARNING: distccd.allow contains 0.0.0.0/0 and the Service is a LoadBalancer");
    });

    test("a traffic policy that hides client addresses is warned about", () => {
      expect(notes({ service: { externalTrafficPolicy: "Cluster" } })).toContain("WARNING: service.externalTrafficPolicy is Cluster");
      expect(notes()).not.toContain("WARNING");
    });

    test("ClusterIP: in-cluster clients ask the Service's /hosts", () => {
      expect(notes({ service: { type: "ClusterIP" } })).toContain('export DISTCC_HOSTS="$(curl -s http://distcc.build.svc:3633/hosts)"');
      expect(notes({ service: { type: "ClusterIP" }, distccd: { peers: { enabled: false } } })).toContain("distcc-headless.build.svc");
    });
  });
});
