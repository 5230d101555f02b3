import { DEFAULT_SEND_TIMEOUT_MS, RoomsError, toRoomsError } from '@rooms-kit/core';
import type { BackendHandler, ClusterBus, NodeId, SendOptions } from '@rooms-kit/core';
import { decodeEnvelope, encodeEnvelope } from './bus-codec.js';
import type { BusEnvelope } from './bus-codec.js';
import { asInt } from './replies.js';
import type { RedisRuntime } from './redis-runtime.js';

/** A request waiting for its reply. */
interface PendingRequest {
  timer: ReturnType<typeof setTimeout>;
  resolve(value: unknown): void;
  reject(error: RoomsError): void;
}

/**
 * RedisClusterBus: the cluster bus on Redis, over each node's control channel (`rooms:node:<id>:ctl`, classic pub/sub,
 * also on Redis Cluster). A request (`BusEnvelope` `req`) is published by a script that publishes only while the
 * target's liveness key exists, so a node that is unknown, closed or found dead is refused at once. Requests to one
 * node are published one after the other (each once the previous one's script ran): Redis Cluster may route (and
 * redirect) pipelined commands through different nodes, which would reorder them. The target's handler answers with a
 * `rep` on the sender's channel; a reply that does not come within the timeout rejects the send, and a late one is
 * ignored. Keeps every guarantee of `ClusterBus`.
 */
export class RedisClusterBus implements ClusterBus {
  private readonly pending = new Map<number, PendingRequest>();
  /** Per target node, the publication of the last request sent to it (the next one waits for it). */
  private readonly tails = new Map<NodeId, Promise<void>>();
  private nextId = 0;
  private handler: BackendHandler | null = null;

  constructor(private readonly runtime: RedisRuntime) {}

  liveNodes(): NodeId[] {
    return this.runtime.running?.liveness.liveNodes() ?? [this.runtime.nodeId];
  }

  send(node: NodeId, body: unknown, options: SendOptions = {}): Promise<unknown> {
    const id = this.nextId++;
    let message: string;
    try {
      message = encodeEnvelope(body === undefined ? { t: 'req', id, from: this.runtime.nodeId } : { t: 'req', id, from: this.runtime.nodeId, body });
    } catch (error) {
      return Promise.reject(new RoomsError('INTERNAL', 'a cluster bus message must be JSON', { cause: error }));
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, null, new RoomsError('UNAVAILABLE', `node ${node} did not answer within ${timeoutMs} ms`)), timeoutMs);
      this.pending.set(id, { timer, resolve, reject });
      this.publish(node, id, message);
    });
  }

  // ---- what the backend tells the bus ---------------------------------------------------------------------------

  /** Starts answering requests with `handler` (null: stops; requests are then answered `UNAVAILABLE`). */
  attach(handler: BackendHandler | null): void {
    this.handler = handler;
  }

  /** A message on this node's control channel: a request to answer, or the reply to one of ours. */
  receive(message: string): void {
    const envelope = decodeEnvelope(message);
    if (!envelope) {
      this.runtime.logger.warn({ message: message.slice(0, 200) }, 'malformed cluster bus message dropped');
      return;
    }
    if (envelope.t === 'rep') {
      if (envelope.ok) this.settle(envelope.id, { value: envelope.body }, null);
      else this.settle(envelope.id, null, new RoomsError(envelope.error.code, envelope.error.message));
      return;
    }
    void this.answer(envelope.from, envelope.id, envelope.body);
  }

  /** Rejects every pending send with `UNAVAILABLE` and stops answering. */
  close(): void {
    this.handler = null;
    for (const id of [...this.pending.keys()]) this.settle(id, null, new RoomsError('UNAVAILABLE', 'the backend is closed'));
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  /** Publishes request `id` to `node` once the requests sent to it before are published; a refusal ends the send. */
  private publish(node: NodeId, id: number, message: string): void {
    const previous = this.tails.get(node) ?? Promise.resolve();
    const published = previous
      .then(() => this.runtime.call((run) => run.runner.run('sendToNode', [this.runtime.keys.node(node)], [this.runtime.keys.control(node), message])))
      .then((reply) => {
        if (asInt(reply) >= 0) return;
        this.runtime.running?.liveness.gone(node);
        this.settle(id, null, new RoomsError('UNAVAILABLE', `node ${node} is not alive`));
      })
      .catch((error: unknown) => this.settle(id, null, toRoomsError(error)));
    this.tails.set(node, published);
    void published.then(() => {
      if (this.tails.get(node) === published) this.tails.delete(node);
    });
  }

  /** Runs the handler on a request and publishes its reply (or error) to the sender, if it is still alive. */
  private async answer(from: NodeId, id: number, body: unknown): Promise<void> {
    let reply: BusEnvelope;
    try {
      if (!this.handler) throw new RoomsError('UNAVAILABLE', 'the node is not started');
      const value = await this.handler.onNodeMessage(from, body);
      reply = value === undefined ? { t: 'rep', id, ok: true } : { t: 'rep', id, ok: true, body: value };
    } catch (error) {
      const { code, message } = toRoomsError(error).toWire();
      reply = { t: 'rep', id, ok: false, error: { code, message } };
    }
    let text: string;
    try {
      text = encodeEnvelope(reply);
    } catch {
      text = encodeEnvelope({ t: 'rep', id, ok: false, error: { code: 'INTERNAL', message: 'the reply is not JSON' } });
    }
    try {
      await this.runtime.call((run) => run.runner.run('sendToNode', [this.runtime.keys.node(from)], [this.runtime.keys.control(from), text]));
    } catch (error) {
      this.runtime.logger.debug({ err: error, to: from }, 'publishing a cluster bus reply failed (the sender times out)');
    }
  }

  /** Ends a pending send with a value or an error; nothing when it already ended. */
  private settle(id: number, outcome: { value: unknown } | null, error: RoomsError | null): void {
    const request = this.pending.get(id);
    if (!request) return;
    this.pending.delete(id);
    clearTimeout(request.timer);
    if (error) request.reject(error);
    else request.resolve(outcome?.value);
  }
}
