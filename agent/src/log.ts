/**
 * @module The agent's only writer of log lines: levels as the C server's, text lines shaped like
 * `distccd[pid] (context) Severity: message` or one JSON object per line.
 */
import { closeSync, openSync, writeSync } from "node:fs";

export const LOG_LEVELS = ["critical", "error", "warning", "notice", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = "text" | "json";
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

const SEVERITY: Record<LogLevel, string> = {
  critical: "CRITICAL! ",
  error: "ERROR: ",
  warning: "Warning: ",
  notice: "",
  info: "",
  debug: "",
};

/** A log destination: stderr, or a file opened for append that SIGHUP can reopen. */
export interface LogTarget {
  write(line: string): void;
  reopen(): void;
}

export function stderrTarget(): LogTarget {
  return {
    write(line) {
      try {
        writeSync(2, line);
      } catch {
        // A closed stderr (detached daemon) must not take the server down.
      }
    },
    reopen() {},
  };
}

export function fileTarget(path: string): LogTarget {
  let fd = openSync(path, "a", 0o640);
  return {
    write(line) {
      writeSync(fd, line);
    },
    reopen() {
      const next = openSync(path, "a", 0o640);
      closeSync(fd);
      fd = next;
    },
  };
}

function formatValue(value: string | number | boolean): string {
  const text = String(value);
  return /[\s"=]/.test(text) || text === "" ? JSON.stringify(text) : text;
}

export class Logger {
  private readonly threshold: number;
  constructor(
    readonly level: LogLevel,
    private readonly format: LogFormat,
    private readonly target: LogTarget,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.threshold = LOG_LEVELS.indexOf(level);
  }

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= this.threshold;
  }

  /** The C server's text for one line, also used for the lines a job copies into SERR. */
  static formatText(level: LogLevel, context: string, message: string, fields?: LogFields): string {
    let line = `distccd[${process.pid}] (${context}) ${SEVERITY[level]}${message}`;
    if (fields) {
      for (const [key, value] of Object.entries(fields)) if (value !== undefined) line += ` ${key}=${formatValue(value)}`;
    }
    return `${line}\n`;
  }

  log(level: LogLevel, context: string, message: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    if (this.format === "json") {
      this.target.write(
        `${JSON.stringify({ time: this.now().toISOString(), level, pid: process.pid, context, msg: message, ...fields })}\n`,
      );
    } else {
      this.target.write(Logger.formatText(level, context, message, fields));
    }
  }

  reopen(): void {
    this.target.reopen();
  }

  critical(context: string, message: string, fields?: LogFields): void {
    this.log("critical", context, message, fields);
  }
  error(context: string, message: string, fields?: LogFields): void {
    this.log("error", context, message, fields);
  }
  warning(context: string, message: string, fields?: LogFields): void {
    this.log("warning", context, message, fields);
  }
  notice(context: string, message: string, fields?: LogFields): void {
    this.log("notice", context, message, fields);
  }
  info(context: string, message: string, fields?: LogFields): void {
    this.log("info", context, message, fields);
  }
  debug(context: string, message: string, fields?: LogFields): void {
    this.log("debug", context, message, fields);
  }
}
