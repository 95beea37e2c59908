/**
 * The session cache of one model: plans compiled once per signature, ONNX Runtime sessions created
 * once per signature and kept (least recently used released beyond `maxSessions`, never one with a
 * run in flight, and its compiled graph with it: a run with hundreds of plan kinds holds only the
 * graphs of its live sessions).
 */
import * as ort from 'onnxruntime-node';
import type { Compiled } from './compile';
import type { Plan } from './plan';

export interface Session {
  compiled: Compiled;
  session: ort.InferenceSession;
}

export class SessionCache {
  /** seconds spent building graphs and creating sessions */
  compileSeconds = 0;
  /** most sessions alive at once (the model sets its default) */
  maxSessions = Infinity;
  private readonly compiledBySig = new Map<string, Compiled>();
  private readonly sessions = new Map<string, Promise<Session>>();
  private readonly busy = new Map<string, number>();

  constructor(
    private readonly build: (plan: Plan) => Compiled,
    /** creates the session of `plan` (its signature's graph `bytes`) */
    private readonly create: (bytes: Uint8Array, plan: Plan) => Promise<ort.InferenceSession>,
    /** the error to throw when a session cannot be created */
    private readonly failure: (e: Error) => Error,
  ) {}

  compile(plan: Plan): Compiled {
    const sig = plan.signature;
    let c = this.compiledBySig.get(sig);
    if (!c) {
      const t0 = performance.now();
      c = this.build(plan);
      this.compileSeconds += (performance.now() - t0) / 1000;
      this.compiledBySig.set(sig, c);
    }
    return c;
  }

  /** Runs `use` with the plan's session, which stays alive meanwhile. */
  async with<T>(plan: Plan, use: (s: Session) => Promise<T>): Promise<T> {
    const s = await this.session(plan);
    const sig = s.compiled.signature;
    this.busy.set(sig, (this.busy.get(sig) ?? 0) + 1);
    try {
      return await use(s);
    } finally {
      this.busy.set(sig, this.busy.get(sig)! - 1);
    }
  }

  private async session(plan: Plan): Promise<Session> {
    const compiled = this.compile(plan);
    const sig = compiled.signature;
    let s = this.sessions.get(sig);
    if (s) {
      // most recently used last
      this.sessions.delete(sig);
      this.sessions.set(sig, s);
      return s;
    }
    for (const [old, sess] of this.sessions) {
      if (this.sessions.size < this.maxSessions) break;
      if (this.busy.get(old)) continue;
      this.sessions.delete(old);
      this.compiledBySig.delete(old);
      await (await sess).session.release();
    }
    const t0 = performance.now();
    s = this.create(compiled.bytes, plan).then(
      (session) => {
        this.compileSeconds += (performance.now() - t0) / 1000;
        // the session holds the graph now; its ONNX bytes are dropped (built again if it is released)
        const kept = { ...compiled, bytes: new Uint8Array(0) };
        this.compiledBySig.set(sig, kept);
        return { compiled: kept, session };
      },
      (e: Error) => {
        this.sessions.delete(sig);
        throw this.failure(e);
      },
    );
    this.sessions.set(sig, s);
    return s;
  }

  /** sessions alive now */
  get size(): number {
    return this.sessions.size;
  }

  async releaseAll(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).session.release();
    this.sessions.clear();
    this.compiledBySig.clear();
  }
}
