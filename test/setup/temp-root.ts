/**
 * Preloaded by `bun test` (bunfig.toml): every temp dir a test makes goes under one dir for the
 * run, removed when the run ends, so test runs leave nothing behind in the system's /tmp.
 */
import { afterAll } from "bun:test";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = mkdtempSync(join(tmpdir(), "distcc-agent-tests-"));
// Agents started as root drop to the distccd user: they must still reach their dirs inside.
chmodSync(root, 0o755);
process.env.TMPDIR = root;
// A preload's afterAll runs once, after the last test file.
afterAll(() => rmSync(root, { recursive: true, force: true }));
