/**
 * The chart's compile cache: the local tier on by default in a bounded emptyDir (or a hostPath),
 * the shared tier from a URL, an existing Secret or a bundled Valkey, its URL only ever in the
 * environment from a Secret, and NetworkPolicy egress to it.
 */
import { describe, expect, test } from "bun:test";
import { find, HELM_VERSIONS, type K8sObject, render, renderError } from "../helpers/helm.ts";
import { validateObject } from "./kubernetes-schema.ts";

const pod = (objects: K8sObject[]) => find(objects, "DaemonSet").spec.template.spec;
const agent = (objects: K8sObject[]) => pod(objects).containers[0];
const flagValue = (args: string[], flag: string) => args[args.indexOf(flag) + 1];
const redisEnv = (objects: K8sObject[]) =>
  ((agent(objects).env ?? []) as { name: string; valueFrom?: unknown }[]).find((entry) => entry.name === "DISTCCD_CACHE_REDIS");

describe.each(HELM_VERSIONS)("Helm %d", (version) => {
  test("by default each node caches in an emptyDir bounded by sizeLimit, and nothing is shared", () => {
    const objects = render(version);
    const args = agent(objects).args as string[];
    expect(flagValue(args, "--cache-dir")).toBe("/var/cache/distccd");
    expect(flagValue(args, "--cache-size")).toBe("2G");
    expect(args).not.toContain("--cache-redis-mode");
    expect(pod(objects).volumes).toContainEqual({ name: "cache", emptyDir: { sizeLimit: "3Gi" } });
    expect(agent(objects).volumeMounts).toContainEqual({ name: "cache", mountPath: "/var/cache/distccd" });
    expect(redisEnv(objects)).toBeUndefined();
    expect(objects.some((object) => object.kind === "Secret")).toBe(false);
  });

  test("cache.enabled false: no cache flag, no volume", () => {
    const objects = render(version, { cache: { enabled: false } });
    expect((agent(objects).args as string[]).some((arg) => arg.startsWith("--cache"))).toBe(false);
    expect(pod(objects).volumes.map((volume: { name: string }) => volume.name)).not.toContain("cache");
  });

  test("a hostPath cache is owned by the agent's user through an init container", () => {
    const objects = render(version, { cache: { hostPath: "/var/lib/distcc-cache" } });
    expect(pod(objects).volumes).toContainEqual({ name: "cache", hostPath: { path: "/var/lib/distcc-cache", type: "DirectoryOrCreate" } });
    expect(pod(objects).initContainers[0].command.join(" ")).toContain("chown 3632:3632 /var/cache/distccd");
    for (const object of objects) validateObject(object);
  });

  test("a URL goes into a Secret and the environment, never the arguments", () => {
    const url = "redis://:hunter2@redis.example:6380/0";
    const objects = render(version, { cache: { redis: { url, mode: "ro", ttl: 3600 } }, networkPolicy: { enabled: true } });
    const args = agent(objects).args as string[];
    expect(JSON.stringify(args)).not.toContain("hunter2");
    expect(flagValue(args, "--cache-redis-mode")).toBe("ro");
    expect(flagValue(args, "--cache-ttl")).toBe("3600");
    expect(redisEnv(objects)).toEqual({
      name: "DISTCCD_CACHE_REDIS",
      valueFrom: { secretKeyRef: { name: "distcc-cache", key: "url" } },
    });
    expect(Buffer.from(find(objects, "Secret", "distcc-cache").data?.url ?? "", "base64").toString()).toBe(url);
    const policy = find(objects, "NetworkPolicy", "distcc");
    expect(policy.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(policy.spec.egress).toContainEqual({ ports: [{ port: 6380, protocol: "TCP" }] });
    for (const object of objects) validateObject(object);
  });

  test("an existing Secret is referenced as it is", () => {
    const objects = render(version, { cache: { redis: { existingSecret: "team-redis", existingSecretKey: "uri" } } });
    expect(redisEnv(objects)).toEqual({
      name: "DISTCCD_CACHE_REDIS",
      valueFrom: { secretKeyRef: { name: "team-redis", key: "uri" } },
    });
    expect(objects.some((object) => object.kind === "Secret")).toBe(false);
  });

  test("deploy: a pinned Valkey with maxmemory and allkeys-lru, its password generated, reached only by the agents", () => {
    const objects = render(version, { cache: { redis: { deploy: true } }, networkPolicy: { enabled: true } });
    for (const object of objects) validateObject(object);
    const valkey = find(objects, "Deployment", "distcc-valkey").spec.template.spec.containers[0];
    expect(valkey.image).toBe("docker.io/valkey/valkey:8.1.1-alpine");
    expect(valkey.args[0]).toContain("--maxmemory 1gb");
    expect(valkey.args[0]).toContain("--maxmemory-policy allkeys-lru");
    expect(find(objects, "Service", "distcc-valkey").spec.ports[0].port).toBe(6379);
    const secret = find(objects, "Secret", "distcc-cache").data ?? {};
    const password = Buffer.from(secret.password ?? "", "base64").toString();
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(JSON.stringify(valkey)).not.toContain(password);
    expect(Buffer.from(secret.url ?? "", "base64").toString()).toBe(`redis://:${password}@distcc-valkey:6379`);
    expect(redisEnv(objects)).toBeDefined();
    const egress = find(objects, "NetworkPolicy", "distcc").spec.egress;
    expect(egress).toContainEqual({
      to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "distcc-valkey", "app.kubernetes.io/instance": "distcc" } } }],
      ports: [{ port: 6379, protocol: "TCP" }],
    });
    const ingress = find(objects, "NetworkPolicy", "distcc-valkey").spec.ingress[0];
    expect(ingress.from[0].podSelector.matchLabels["app.kubernetes.io/name"]).toBe("distcc");
  });

  test("deploy together with a URL is refused", () => {
    expect(renderError(version, { cache: { redis: { deploy: true, url: "redis://other" } } })).toContain(
      "cache.redis.deploy bundles a Valkey",
    );
  });

  test("the schema refuses a bad mode and a URL of another scheme", () => {
    expect(renderError(version, { cache: { redis: { mode: "wo" } } })).toContain("mode");
    expect(renderError(version, { cache: { redis: { url: "http://x" } } })).toContain("url");
  });
});
