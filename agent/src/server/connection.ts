/**
 * @module One client connection, from first byte to last: feeds the decoder, stores the
 * request's source in a private temp dir, runs the job when a slot is free, and writes the
 * reply with backpressure. The single place where errors become a reply or a silent close; what
 * a full disk, a limit hit or a slow client costs the job is decided in job-faults.ts.
 */
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import type { CompileCache, CompileOutput } from "../cache/compile-cache.ts";
import type { TreeManifest } from "../cache/tree-manifest.ts";
import type { CompilerWhitelist } from "../compiler-whitelist.ts";
import type { Config } from "../config.ts";
import { AgentError, JobRefusedError, LimitError } from "../errors.ts";
import { isSource } from "../job/argv.ts";
import { busyResult, type CompilePlan, type JobResult, planCompile, readIfPresent, refusedResult, runCompile } from "../job/compile-job.ts";
import type { JobDirs } from "../job/job-dir.ts";
import type { SpawnFn } from "../job/spawn.ts";
import type { Logger } from "../log.ts";
import { decompressView } from "../lzo/lzo1x.ts";
import type { JobResultClass, Stats } from "../metrics/stats.ts";
import type { JobEventSink, JobRequest, JobTracker } from "../monitor/job-events.ts";
import { Decoder, type ProtocolVersion, type RequestEvent, RequestParser } from "../protocol/index.ts";
import { scrubDebugInfo } from "../pump/debug-info.ts";
import { cleanDependencyFile } from "../pump/dependency-file.ts";
import { FileTree } from "../pump/file-tree.ts";
import type { BufferPool } from "./buffer-pool.ts";
import { JobFaults } from "./job-faults.ts";
import type { JobSlots } from "./job-slots.ts";
import type { MemoryBudget } from "./memory-budget.ts";
import { coalesce, encodeReply } from "./reply.ts";

/** What a connection needs of its socket; Bun sockets and the inetd stdio pair both fit. */
export interface Transport {
  /** Returns how many bytes were taken (possibly fewer than given), or a negative number once closed. */
  write(bytes: Uint8Array): number;
  /** Closes after what was written; the client sees EOF. */
  end(): void;
}

/** Everything shared by the connections of one server. */
export interface ServerContext {
  readonly config: Config;
  readonly whitelist: CompilerWhitelist;
  readonly log: Logger;
  readonly slots: JobSlots;
  readonly stats: Stats;
  readonly spawn: SpawnFn;
  /** The compilers' environment. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly connections: Set<Connection>;
  readonly jobDirs: JobDirs;
  /** Compressed bodies held in memory by all connections together. */
  readonly bodyMemory: MemoryBudget;
  /** Large buffers (bodies, objects, compressed replies) kept from one job for the next. */
  readonly buffers: BufferPool;
  /** Answers repeated compiles; runs the compile itself on a miss. */
  readonly cache: CompileCache;
  /** Where each job's phases are reported (the monitor); absent without a stats port. */
  readonly jobEvents?: JobEventSink;
}

/** Larger compressed bodies always stream to a temp file. */
export const MAX_BODY_IN_MEMORY = 4 << 20;

enum Phase {
  Receiving,
  Running,
  Replying,
  Closed,
}

const RESULT_CLASS: Record<JobResult["outcome"], JobResultClass> = {
  ok: "COMPILE_OK",
  error: "COMPILE_ERROR",
  timeout: "COMPILE_TIMEOUT",
  oversized: "COMPILE_ERROR",
  missing: "COMPILE_ERROR",
  refused: "OTHER",
  disconnect: "CLI_DISCONN",
  "no-space": "OTHER",
};

/** A job whose client left before a compiler slot was free. */
const NOT_RUN: JobResult = {
  status: -1,
  stdout: new Uint8Array(0),
  stderr: new Uint8Array(0),
  object: new Uint8Array(0),
  outcome: "disconnect",
};

export class Connection {
  private readonly decoder: Decoder;
  private readonly parser: RequestParser;
  private readonly abort = new AbortController();
  private readonly started = performance.now();
  private phase = Phase.Receiving;
  private jobDir: string | undefined;
  private plan: CompilePlan | undefined;
  /** The reply of a job that will not run, kept while the rest of the request is read and dropped. */
  private refusal: JobResult | undefined;
  private argv: readonly string[] = [];
  private sourceFd: number | undefined;
  /** Protocol 2: the compressed body, when the memory budget had room for it. */
  private body: { bytes: Uint8Array; filled: number } | undefined;
  /** The reply's buffers still to write, in order; undefined until the reply exists. */
  private unsent: Uint8Array[] | undefined;
  private bytesOut = 0;
  /** Buffers from the pool in this connection's hands; they go back when it closes. */
  private borrowed: Uint8Array[] = [];
  /** A full disk, a limit hit, a client too slow. */
  private readonly faults: JobFaults;
  private jobRunning = false;
  /** Protocol 3: the client's files rebuilt under the job's fake root. */
  private tree: FileTree | undefined;
  private manifest: TreeManifest | undefined;
  /** How the cache answered the job, for its log line. */
  private cacheOutcome: string | undefined;
  private workingDirectory: string | undefined;
  private file: { name: string; chunks: Uint8Array[] } | undefined;
  private readonly finished = Promise.withResolvers<void>();
  /** The job as the monitor follows it, from its first byte. */
  private track: JobTracker | undefined;

  constructor(
    private readonly ctx: ServerContext,
    private readonly transport: Transport,
    readonly peer: string,
  ) {
    const limits = ctx.config.limits;
    this.decoder = new Decoder({ maxStringBytes: limits.maxStringBytes, maxBulkBytes: limits.maxSourceBytes });
    this.parser = new RequestParser(ctx.config.limits);
    ctx.connections.add(this);
    this.faults = new JobFaults(ctx, peer, () => this.kill());
    this.faults.watch("request");
  }

  /** Resolves once the connection is closed and its compiler and temp dir are gone. */
  get settled(): Promise<void> {
    return this.finished.promise;
  }

  /** True until the whole request has arrived. */
  get receiving(): boolean {
    return this.phase === Phase.Receiving;
  }

  /** The chunk is only lent: whatever must outlive this call is copied (the listener frees it after). */
  data(chunk: Uint8Array): void {
    if (this.phase !== Phase.Receiving) return;
    this.track ??= this.ctx.jobEvents?.open(this.peer);
    this.faults.progress();
    try {
      this.decoder.push(chunk);
      for (let frame = this.decoder.next(); frame !== undefined; frame = this.decoder.next()) {
        const event = this.parser.feed(frame);
        if (event !== undefined) this.store(event);
        if (this.parser.complete) {
          this.decoder.discard();
          this.startJob();
          return;
        }
      }
    } catch (error) {
      this.reject(error);
    }
  }

  drain(): void {
    this.faults.progress();
    this.flush();
  }

  /** The client closed or the socket failed. */
  closed(): void {
    if (this.phase === Phase.Closed) return;
    if (this.phase === Phase.Receiving && this.decoder.bytesIn > 0) {
      this.ctx.log.warning(
        "dcc_r_request",
        `client ${this.peer} closed the connection before its request was complete (truncated stream)`,
        {
          bytes: this.decoder.bytesIn,
        },
      );
      this.ctx.stats.recordJob("REJ_BAD_REQ");
      this.track?.finish("REJ_BAD_REQ");
    } else if (this.phase === Phase.Running || this.phase === Phase.Replying) {
      this.ctx.log.warning("dcc_collect_child", `client ${this.peer} disconnected, killing job`);
    }
    this.close();
  }

  /** Ends the connection now, killing its compiler (server shutdown). */
  kill(): void {
    this.close();
    this.transport.end();
  }

  private close(): void {
    this.phase = Phase.Closed;
    this.faults.unwatch();
    this.abort.abort();
    this.closeSource();
    this.releaseBody();
    for (const buffer of this.borrowed) this.ctx.buffers.give(buffer);
    this.borrowed = [];
    if (!this.jobRunning) this.removeJobDir();
    this.ctx.connections.delete(this);
  }

  /** Stores what an event brings. Without room for it, what was stored goes and the rest is read and dropped. */
  private store(event: RequestEvent): void {
    const lost = this.faults.storing(() => this.handle(event));
    if (lost === undefined) return;
    this.refusal ??= lost;
    this.file = undefined;
    this.closeSource();
    this.releaseBody();
    this.deleteJobFiles();
  }

  private handle(event: RequestEvent): void {
    switch (event.kind) {
      case "version": {
        this.jobDir = this.ctx.jobDirs.take();
        const limits = this.ctx.config.limits;
        if (event.version === 3) {
          this.manifest = this.ctx.cache.treeManifest();
          const treeLimits = { maxPathBytes: limits.maxPathBytes, maxTotalBytes: limits.maxPumpBytes };
          // With the cache on, the tree stays in memory until a miss needs it on disk (--save-temps keeps it on disk).
          const hold = this.manifest !== undefined && !this.ctx.config.saveTemps ? this.ctx.bodyMemory : undefined;
          this.tree = new FileTree(`${this.jobDir}/root`, treeLimits, this.manifest, hold);
        }
        return;
      }
      case "cwd":
        this.refusing(() => {
          this.workingDirectory = this.tree?.makeWorkingDirectory(event.path);
        });
        return;
      case "argv":
        this.argv = event.argv;
        this.refusing(() => {
          this.plan = planCompile(event.argv, this.ctx.whitelist, this.jobDir as string, this.tree?.root);
        });
        // A pump request's files follow: the monitor names the job while they arrive.
        this.track?.phase("receiving", this.request());
        return;
      case "file-start":
        this.file = { name: event.name, chunks: [] };
        return;
      case "file-chunk":
        // Chunks are views into the socket's buffer: keep copies until the file is whole.
        if (this.refusal === undefined) this.file?.chunks.push(new Uint8Array(event.bytes));
        return;
      case "file-end": {
        const file = this.file;
        this.file = undefined;
        if (file === undefined || this.refusal !== undefined) return;
        const compressed = file.chunks.length === 1 ? (file.chunks[0] as Uint8Array) : Buffer.concat(file.chunks);
        const data = decompressView(compressed, this.ctx.config.limits.maxSourceBytes);
        this.refusing(() => this.tree?.writeFile(file.name, data));
        return;
      }
      case "link":
        this.refusing(() => this.tree?.addLink(event.name, event.target));
        return;
      case "source-start":
        if (this.plan === undefined || this.refusal !== undefined) return;
        if (this.parser.protocol === 2 && event.length <= MAX_BODY_IN_MEMORY && this.ctx.bodyMemory.reserve(event.length))
          this.body = { bytes: this.borrow(event.length), filled: 0 };
        else this.sourceFd = openSync(this.receivedSourcePath(this.plan), "w", 0o600);
        return;
      case "source-chunk":
        if (this.body !== undefined) {
          this.body.bytes.set(event.bytes, this.body.filled);
          this.body.filled += event.bytes.length;
        } else if (this.sourceFd !== undefined) writeAll(this.sourceFd, event.bytes);
        return;
      case "source-end":
        this.closeSource();
        return;
    }
  }

  /**
   * Runs a step that may refuse the job (a compiler, an option, a pump path, a pump limit). The
   * first refusal is kept: the rest of the request is read and dropped, and the client gets a
   * failing STAT with the reason instead of a silent close.
   */
  private refusing(step: () => void): void {
    if (this.refusal !== undefined) return;
    try {
      step();
    } catch (error) {
      if (!(error instanceof JobRefusedError || error instanceof LimitError)) throw error;
      this.refusal = refusedResult(error instanceof JobRefusedError ? error : new JobRefusedError(error.code, error.message));
      this.ctx.log.critical("dcc_check_compiler", `refused job from ${this.peer}: ${error.message}`, { code: error.code });
      this.ctx.stats.recordRefusal(error.code);
    }
  }

  /** Protocol 1 bodies go straight to the compiler's input; LZO bodies kept on disk are decompressed later. */
  private receivedSourcePath(plan: CompilePlan): string {
    return this.parser.protocol === 1 ? plan.sourceFile : `${this.jobDir}/source.lzo`;
  }

  /** A buffer from the pool, given back when the connection closes (its reply is sent by then). */
  private borrow(size: number): Uint8Array {
    const buffer = this.ctx.buffers.take(size);
    // Taken after the close (a job that outlived its client): the garbage collector has it.
    if (this.phase !== Phase.Closed) this.borrowed.push(buffer);
    return buffer;
  }

  private releaseBody(): void {
    if (this.body === undefined) return;
    this.ctx.bodyMemory.release(this.body.bytes.length);
    this.body = undefined;
  }

  private closeSource(): void {
    if (this.sourceFd === undefined) return;
    closeSync(this.sourceFd);
    this.sourceFd = undefined;
  }

  private startJob(): void {
    this.phase = Phase.Running;
    this.faults.unwatch();
    this.jobRunning = true;
    this.runJob()
      .catch((error) => this.jobFailed(error))
      .finally(() => {
        this.jobRunning = false;
        if (this.phase === Phase.Closed) this.removeJobDir();
      });
  }

  private async runJob(): Promise<void> {
    const version = this.parser.protocol;
    this.refusing(() => this.tree?.finish());
    if (this.refusal !== undefined) {
      this.deleteJobFiles();
      this.reply(version, this.refusal);
      return;
    }
    const plan = this.plan as CompilePlan;
    const { maxQueue } = this.ctx.config.limits;
    if (this.ctx.slots.active >= this.ctx.slots.size && this.ctx.slots.queued >= maxQueue) {
      this.ctx.log.warning(
        "dcc_run_job",
        `server busy: ${maxQueue} jobs already wait for a compiler; told ${this.peer} to compile elsewhere`,
      );
      this.ctx.stats.recordRefusal("queue-full");
      this.deleteJobFiles();
      this.reply(version, busyResult(maxQueue), undefined, "REJ_OVERLOAD");
      return;
    }
    let source: Uint8Array | undefined;
    if (version === 2) {
      const compressed = this.body?.bytes ?? readFileSync(this.receivedSourcePath(plan));
      source = decompressView(compressed, this.ctx.config.limits.maxSourceBytes);
      writeFileSync(plan.sourceFile, source, { mode: 0o600 });
      this.releaseBody();
    }
    const cwd = this.workingDirectory ?? this.ctx.config.tmpDir;
    const job = { plan, jobDir: this.jobDir as string, cwd, source: () => source ?? readIfPresent(plan.sourceFile), tree: this.manifest };
    const served = await this.ctx.cache.serve(job, () => this.compile(plan));
    this.cacheOutcome = served.cache;
    this.track?.cache(served.cache);
    if (this.phase === Phase.Closed) {
      this.summary(version, "CLI_DISCONN", served.result.status);
      return;
    }
    const result = this.faults.compiled(served.result);
    // The reply is in memory now: the job's files go before the client can see the reply.
    this.deleteJobFiles();
    this.reply(version, result, served.dependencies);
  }

  /** The compile itself, once a compiler slot is free: what the cache runs on a miss. */
  private async compile(plan: CompilePlan): Promise<CompileOutput> {
    this.refusing(() => this.tree?.materialize());
    if (this.refusal !== undefined) return { result: this.refusal, dependencies: undefined };
    let release: () => void;
    this.track?.phase("queued", this.request());
    try {
      release = await this.ctx.slots.acquire(this.abort.signal);
    } catch {
      return { result: NOT_RUN, dependencies: undefined };
    }
    this.track?.phase("compiling");
    let result: JobResult;
    try {
      if (this.ctx.log.enabled("info")) this.ctx.log.info("dcc_spawn_child", `running job from ${this.peer}: ${plan.command.join(" ")}`);
      result = await runCompile(plan, {
        maxOutputBytes: this.ctx.config.limits.maxOutputBytes,
        cwd: this.workingDirectory ?? this.ctx.config.tmpDir,
        env: this.ctx.env,
        jobDir: this.jobDir as string,
        lifetimeMs: this.ctx.config.jobLifetimeSeconds * 1000,
        signal: this.abort.signal,
        spawn: this.ctx.spawn,
        buffer: (size) => this.borrow(size),
      });
    } finally {
      release();
    }
    return { result, dependencies: this.phase === Phase.Closed ? undefined : this.pumpDependencies(plan, result) };
  }

  /** Protocol 3 on success: the object's debug info and the `.d` file without the fake root. */
  private pumpDependencies(plan: CompilePlan, result: JobResult): Uint8Array | undefined {
    if (this.tree === undefined || plan.dependencies === undefined || result.status !== 0) return undefined;
    const root = this.tree.root;
    scrubDebugInfo(result.object, root);
    // No dependency file from the compiler: the client gets an empty one.
    return cleanDependencyFile(readIfPresent(plan.dependencies.file), plan.objectFile, plan.dependencies.target, root);
  }

  private reply(version: ProtocolVersion, result: JobResult, dependencies?: Uint8Array, resultClass = RESULT_CLASS[result.outcome]): void {
    this.phase = Phase.Replying;
    this.track?.phase("replying", this.request());
    this.unsent = coalesce(encodeReply(version, result, dependencies, (size) => this.borrow(size)));
    this.faults.watch("reply");
    this.flush(() => this.summary(version, resultClass, result.status));
  }

  private onFlushed: (() => void) | undefined;

  private flush(done?: () => void): void {
    if (done) this.onFlushed = done;
    while (this.unsent !== undefined && this.phase === Phase.Replying) {
      const next = this.unsent[0];
      if (next !== undefined) {
        const written = this.transport.write(next);
        if (written < 0) {
          this.closed();
          return;
        }
        this.bytesOut += written;
        if (written < next.length) {
          this.unsent[0] = next.subarray(written);
          return;
        }
        this.unsent.shift();
        continue;
      }
      this.unsent = undefined;
      this.onFlushed?.();
      // Closed first: ending the socket may run the close handler synchronously.
      this.close();
      this.transport.end();
    }
  }

  /** The job's own files did not fit on the disk: the reply says so; any other failure is a bad request. */
  private jobFailed(error: unknown): void {
    const lost = this.phase === Phase.Running ? this.faults.lost(error) : undefined;
    if (lost === undefined) {
      this.reject(error);
      return;
    }
    this.deleteJobFiles();
    this.reply(this.parser.protocol, lost);
  }

  /** A request that breaks the protocol or a limit: logged with its reason, closed with no reply (as the C server). */
  private reject(error: unknown): void {
    if (this.phase === Phase.Closed) return;
    const code = error instanceof AgentError ? error.code : "E_INTERNAL";
    const message = error instanceof Error ? error.message : String(error);
    this.ctx.log.error("dcc_r_request", `bad request from ${this.peer}: ${message}`, { code });
    this.ctx.stats.recordJob("REJ_BAD_REQ");
    this.track?.finish("REJ_BAD_REQ");
    this.ctx.stats.recordRefusal(code);
    this.kill();
  }

  /** What the client asked for, as far as it has arrived. */
  private request(): JobRequest {
    return {
      protocol: this.parser.protocol,
      compiler: this.plan?.compiler ?? this.argv[0] ?? "",
      source: this.plan?.scanned.input ?? this.argv.slice(1).find(isSource) ?? "",
    };
  }

  private summary(version: ProtocolVersion, result: JobResultClass, status: number): void {
    const ms = Math.round(performance.now() - this.started);
    const { source: input, compiler } = this.request();
    this.track?.finish(result);
    this.ctx.stats.recordJob(result, { protocol: version, input, compiler, ms, bytesIn: this.decoder.bytesIn, bytesOut: this.bytesOut });
    this.ctx.log.notice("dcc_job_summary", `client: ${this.peer} ${result}`, {
      protocol: version,
      compiler,
      input,
      status,
      exit: status >= 0 && (status & 0x7f) === 0 ? status >> 8 : undefined,
      signal: status > 0 && (status & 0x7f) !== 0 ? status & 0x7f : undefined,
      time: `${ms}ms`,
      in: this.decoder.bytesIn,
      out: this.bytesOut,
      cache: this.cacheOutcome ?? (this.ctx.cache.enabled ? "bypass" : "off"),
    });
  }

  private removeJobDir(): void {
    this.deleteJobFiles();
    // A job that ended without a result (a client gone mid-request, an idle timeout) ends here.
    this.track?.finish("CLI_DISCONN");
    this.finished.resolve();
  }

  private deleteJobFiles(): void {
    if (this.jobDir !== undefined && !this.ctx.config.saveTemps) {
      // What is left after the tree's own removal (nothing, usually) goes with the job dir.
      this.tree?.remove();
      this.ctx.jobDirs.give(this.jobDir);
    }
    this.jobDir = undefined;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
}
