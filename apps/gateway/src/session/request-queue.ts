import { RingQueue } from './ring-queue.js';

/** Requests waiting beyond this pause reading from the client (backpressure on pipelining clients). */
const PAUSE_AT = 256;
/** ... and reading resumes below this. */
const RESUME_AT = 64;
/** First size of the waiting queue (it grows as needed; most clients wait for a reply before the next request). */
const WAITING_CAPACITY = 4;

/** One unit of a session's work in arrival order: the handshake, a request, a refusal. */
export type RequestTask = () => Promise<void> | void;

/** The session a {@link RequestQueue} runs tasks for. */
export interface RequestQueueOwner {
  /** True once the session ended: no further task runs. */
  readonly ended: boolean;
  /** Too many tasks wait: stop reading requests from the client. */
  pauseReading(): void;
  /** Few enough wait again (or the session ended): read again. */
  resumeReading(): void;
  /** A task threw (tasks report their own failures; this is a bug's last stop). Must not throw. */
  taskFailed(error: unknown): void;
  /**
   * Nothing runs or waits any more (or the session ended): the owner may drop the queue, a later task gets a new
   * one. Must not throw.
   */
  drained(): void;
}

/**
 * Runs a session's tasks one at a time in arrival order (so a `join` then a `broadcast` behave as sent), each after
 * the previous one settled. When more than {@link PAUSE_AT} wait, reading from the client pauses until fewer than
 * {@link RESUME_AT} do. The waiting queue exists only while tasks wait, and the owner is told when the last task is
 * done ({@link RequestQueueOwner.drained}) so that it can drop the queue itself: idle sessions are most of a gateway.
 */
export class RequestQueue {
  /** `running`: a task runs; `paused`: a task runs and reading is paused (too many wait). */
  private state: 'idle' | 'running' | 'paused' = 'idle';
  /** Tasks waiting behind the one running (null while none waits). */
  private waiting: RingQueue<RequestTask> | null = null;

  constructor(private readonly owner: RequestQueueOwner) {}

  /** Runs `task` now when nothing runs, else queues it behind the running one. */
  enqueue(task: RequestTask): void {
    if (this.state === 'idle') {
      void this.run(task);
      return;
    }
    const waiting = (this.waiting ??= new RingQueue<RequestTask>(WAITING_CAPACITY));
    waiting.push(task);
    if (this.state === 'running' && waiting.size > PAUSE_AT) {
      this.state = 'paused';
      this.owner.pauseReading();
    }
  }

  /** The session ended: reading resumes if it was paused, so the transport still sees the client's close. */
  stop(): void {
    if (this.state !== 'paused') return;
    this.state = 'running';
    this.owner.resumeReading();
  }

  private async run(first: RequestTask): Promise<void> {
    this.state = 'running';
    let task: RequestTask | undefined = first;
    while (task !== undefined && !this.owner.ended) {
      try {
        await task();
      } catch (error) {
        this.owner.taskFailed(error);
      }
      this.resumeIfDrained();
      task = this.waiting?.shift();
    }
    this.waiting = null;
    this.state = 'idle';
    this.owner.drained();
  }

  private resumeIfDrained(): void {
    if (this.state !== 'paused' || (this.waiting?.size ?? 0) >= RESUME_AT) return;
    this.state = 'running';
    this.owner.resumeReading();
  }
}
