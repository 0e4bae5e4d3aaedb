// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are workflow text, whose expressions are written ${{ ... }}.
/**
 * What broke, or would have, the first time the workflows ran on GitHub, each checked against
 * the rule of the tool that enforces it (chart-testing, kind, Kubernetes, Docker, Helm): ct's
 * flags, the ServiceMonitor CRD, a dual-stack kind cluster for the dualstack scenario, a load
 * balancer controller, the image built once and loaded as an archive, cancelling only pull
 * requests, native per-platform image builds merged by digest, and the release's tags, order
 * and permissions.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { find, ROOT, render } from "../helpers/helm.ts";
import { job, needs, stepIndex, workflow, workflowText, yamlFile } from "../helpers/workflows.ts";

const kind = job("ci.yml", "kind");
const ctStep = stepIndex(kind, { run: "ct lint-and-install" });
const SCENARIOS = readdirSync(join(ROOT, "ci/values")).filter((name) => name.endsWith("-values.yaml"));

describe("CI's kind job", () => {
  test("chart-testing gets the chart once: from ci/ct.yaml's charts, with no --all beside it", () => {
    // ct's config.go: "specifying both, '--all' and '--charts', is not allowed".
    const ct = yamlFile<{ charts?: string[]; all?: boolean; "check-version-increment"?: boolean }>("ci/ct.yaml");
    const command = kind.steps[ctStep]?.run ?? "";
    const all = ct.all === true || /\s--all\b/.test(command);
    const charts = (ct.charts?.length ?? 0) > 0 || /\s--charts\b/.test(command);
    expect({ all, charts }).toEqual({ all: false, charts: true });
    expect(ct.charts).toEqual(["chart"]);
    expect(yamlFile<{ name: string }>("chart/Chart.yaml").name).toBe("distcc");
  });

  test("installs a pinned ServiceMonitor CRD before ct installs the scenario that renders one", () => {
    const monitors = SCENARIOS.filter((name) =>
      render(4, undefined, [join(ROOT, "ci/values", name)]).some((o) => o.kind === "ServiceMonitor"),
    );
    expect(monitors).toEqual(["hardened-values.yaml"]);
    const crd = stepIndex(kind, { run: "monitoring.coreos.com_servicemonitors.yaml" });
    expect(crd).toBeGreaterThanOrEqual(0);
    expect(crd).toBeLessThan(ctStep);
    const version = workflow("ci.yml").env?.PROMETHEUS_OPERATOR_VERSION ?? "";
    expect(version).toMatch(/^v\d+\.\d+\.\d+$/);
    const script = kind.steps[crd]?.run ?? "";
    expect(script).toContain("raw.githubusercontent.com/prometheus-operator/prometheus-operator/$PROMETHEUS_OPERATOR_VERSION/");
    expect(script).toContain("kubectl wait --for condition=established");
    // The CRD's group and version are the ones the chart's ServiceMonitor uses.
    const monitor = find(render(4, undefined, [join(ROOT, "ci/values/hardened-values.yaml")]), "ServiceMonitor");
    expect(monitor.apiVersion).toBe("monitoring.coreos.com/v1");
  });

  test("the kind cluster has every IP family a scenario's Service asks for, and two nodes", () => {
    const setup = kind.steps.find((step) => step.uses?.startsWith("helm/kind-action@"));
    expect(setup?.with?.config).toBe("ci/kind.yaml");
    const cluster = yamlFile<{ networking?: { ipFamily?: string }; nodes?: { role: string }[] }>("ci/kind.yaml");
    // kind: ipFamily ipv4 (the default), ipv6 or dual.
    const families = { ipv4: ["IPv4"], ipv6: ["IPv6"], dual: ["IPv4", "IPv6"] }[cluster.networking?.ipFamily ?? "ipv4"] ?? [];
    for (const name of SCENARIOS) {
      const service = find(render(4, undefined, [join(ROOT, "ci/values", name)]), "Service", "distcc");
      for (const family of service.spec.ipFamilies ?? [])
        expect({ name, family, available: families.includes(family) }).toEqual({ name, family, available: true });
    }
    expect(families).toEqual(["IPv4", "IPv6"]);
    expect(cluster.nodes?.map((node) => node.role)).toEqual(["control-plane", "worker"]);
  });

  test("a load-balancer controller runs before ct, and a compile goes through the load balancer's address", () => {
    const controller = stepIndex(kind, { run: "cloud-provider-kind" });
    expect(controller).toBeGreaterThanOrEqual(0);
    expect(controller).toBeLessThan(ctStep);
    expect(workflow("ci.yml").env?.CLOUD_PROVIDER_KIND_VERSION).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(kind.steps[controller]?.run).toContain('go install "sigs.k8s.io/cloud-provider-kind@$CLOUD_PROVIDER_KIND_VERSION"');
    expect(SCENARIOS).toContain("loadbalancer-values.yaml");
    const lb = kind.steps.find((step) => step.run?.includes("-f ci/values/loadbalancer-values.yaml"))?.run ?? "";
    expect(lb).toContain("{.status.loadBalancer.ingress[0].ip}");
    expect(lb).toContain('DISTCC_HOSTS="$lb:3632,lzo"');
    expect(lb).toContain('probe "$lb:3632" --compiler powerpc-unknown-linux-gnu-gcc --expect-machine PowerPC');
  });

  test("the compiles from the runner come from an address the scenario allows", () => {
    // The runner reaches the nodes and cloud-provider-kind's proxy over docker's kind network.
    const lb = render(4, undefined, [join(ROOT, "ci/values/loadbalancer-values.yaml")]);
    const args = find(lb, "DaemonSet").spec.template.spec.containers[0].args as string[];
    expect(args.filter((_arg, i) => args[i - 1] === "--allow")).toContain("172.16.0.0/12");
    expect(find(lb, "Service", "distcc").spec.loadBalancerSourceRanges).toContain("172.16.0.0/12");
  });

  test("uses the image built once by the image job, loaded as an archive, and builds none itself", () => {
    const image = job("ci.yml", "image");
    const build = image.steps.find((step) => step.uses?.startsWith("docker/build-push-action@"));
    expect(build?.with).toMatchObject({ provenance: false, outputs: "type=docker,dest=${{ runner.temp }}/distcc-image.tar" });
    expect(image.steps.some((step) => step.uses?.startsWith("actions/upload-artifact@") && step.with?.name === "distcc-image")).toBe(true);
    expect(needs(kind)).toEqual(["test", "image"]);
    expect(kind.steps.some((step) => step.uses?.startsWith("docker/build-push-action@"))).toBe(false);
    expect(kind.steps.some((step) => step.uses?.startsWith("actions/download-artifact@") && step.with?.name === "distcc-image")).toBe(true);
    expect(workflowText("ci.yml")).toContain('kind load image-archive "$RUNNER_TEMP/distcc-image.tar" --name distcc');
    expect(workflowText("ci.yml")).not.toContain("kind load docker-image");
  });

  test("helm test and the runner's checks compile with distccd probe", () => {
    expect(workflowText("ci.yml")).toContain("helm test distcc --logs");
    expect(workflowText("ci.yml")).toContain('probe "$node_ip:30362" --compiler powerpc-unknown-linux-gnu-gcc --expect-machine PowerPC');
  });
});

test("only pull requests are cancelled by a newer push: runs on main finish and fill the cache", () => {
  expect(workflow("ci.yml").concurrency).toEqual({
    group: "ci-${{ github.ref }}",
    "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
  });
});

describe("the release", () => {
  const release = workflow("release.yml");
  const text = workflowText("release.yml");

  test("builds each platform on its own native runner, pushed by digest, without QEMU", () => {
    expect(release.jobs.image?.strategy?.matrix?.include).toEqual([
      { platform: "linux/amd64", runner: "ubuntu-24.04" },
      { platform: "linux/arm64", runner: "ubuntu-24.04-arm" },
    ]);
    expect(release.jobs.image?.["runs-on"]).toBe("${{ matrix.runner }}");
    const build = release.jobs.image?.steps.find((step) => step.id === "build");
    expect(build?.with).toMatchObject({
      platforms: "${{ matrix.platform }}",
      provenance: "mode=max",
      sbom: true,
      outputs: "type=image,name=${{ steps.image.outputs.name }},push-by-digest=true,name-canonical=true,push=true",
    });
    expect(text).not.toContain("setup-qemu-action");
  });

  test("merges the digests into one tag with imagetools, and moves latest only for a final tag", () => {
    const merge = release.jobs.manifest?.steps.find((step) => step.run?.includes("imagetools create"))?.run ?? "";
    expect(needs(release.jobs.manifest as never)).toEqual(["image"]);
    expect(merge).toContain('docker buildx imagetools create "${tags[@]}" "${sources[@]}"');
    expect(merge).toContain('if [[ "$version" != *-* ]]; then tags+=(--tag "$name:latest"); fi');
    expect(text.match(/:latest/g)).toHaveLength(1);
    expect(release.jobs.binaries?.steps.at(-1)?.run).toContain('if [[ "$GITHUB_REF_NAME" == *-* ]]; then prerelease=(--prerelease); fi');
  });

  test("the chart and the binaries wait for the image", () => {
    expect(needs(release.jobs.chart as never)).toEqual(["check", "manifest"]);
    expect(needs(release.jobs.binaries as never)).toEqual(["check", "manifest"]);
  });

  test("no job asks for an id-token it does not use", () => {
    expect(text).not.toContain("id-token");
  });

  test("releases both x64 builds (AVX2 and baseline) and arm64", () => {
    expect(text).toContain("for target in x64 x64-baseline arm64; do");
    expect(text).toContain('cp dist/distccd "release/distccd-linux-$target"');
  });
});
