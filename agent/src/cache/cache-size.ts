/**
 * @module `--cache-size`: a byte count with an optional k, M or G suffix (powers of 1024).
 */
import { ConfigError } from "../errors.ts";

const UNITS: Record<string, number> = { "": 1, k: 1024, K: 1024, m: 1024 ** 2, M: 1024 ** 2, g: 1024 ** 3, G: 1024 ** 3 };

/** Bytes for "2G", "500M", "64k" or "1048576"; ConfigError for anything else. */
export function parseCacheSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)i?[bB]?$/.exec(text.trim());
  const bytes = match ? Math.floor(Number(match[1]) * (UNITS[match[2] ?? ""] ?? 1)) : Number.NaN;
  if (!(bytes >= 1024 * 1024) || !Number.isSafeInteger(bytes))
    throw new ConfigError("E_CONFIG_RANGE", `--cache-size ${text}: must be a size of at least 1M, such as 500M or 2G`);
  return bytes;
}
