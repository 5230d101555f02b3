import { encodeTextFrame } from './ws-frame.js';

/**
 * One server message on its way out, shared by every connection it goes to: its JSON text, the group it belongs to
 * (null for replies and connection events), its message offset (0 when it is not a `message` event) and, for a
 * batch (`[m1,m2,…]`), the frames it packs. The WebSocket frame is built once, on first use, and then shared.
 */
export class OutboundFrame {
  private wire: Buffer | null = null;

  constructor(
    readonly json: string,
    readonly group: string | null = null,
    readonly offset: number = 0,
    readonly parts: readonly OutboundFrame[] | null = null,
  ) {}

  /** The complete WebSocket text frame. */
  get bytes(): Buffer {
    return (this.wire ??= encodeTextFrame(this.json));
  }
}
