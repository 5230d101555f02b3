import type { WireEncoding } from './transport.js';

/**
 * One server message on its way out, shared by every session it goes to: its JSON text, the group it belongs to
 * (null for replies and connection events), its message offset (0 when it is not a `message` event) and, for a
 * batch (`[m1,m2,…]`), the frames it packs. Its bytes are built once per wire encoding (transport kind), on first
 * use, and then shared by every recipient of that kind: the fan-out encodes an event once, whatever the number of
 * recipients.
 */
export class OutboundFrame {
  /** The encoding asked for first (all a gateway with one transport kind ever asks for) and its bytes. */
  private firstEncoding: WireEncoding | null = null;
  private firstBytes: Buffer | null = null;
  /** The bytes of other encodings, when recipients of several transport kinds got this frame. */
  private otherBytes: Map<WireEncoding, Buffer> | null = null;

  constructor(
    readonly json: string,
    readonly group: string | null = null,
    readonly offset: number = 0,
    readonly parts: readonly OutboundFrame[] | null = null,
  ) {}

  /** The frame as `encoding` puts it on the wire (built on the first call per encoding, then the same buffer). */
  encoded(encoding: WireEncoding): Buffer {
    if (this.firstEncoding === encoding) return this.firstBytes as Buffer;
    if (this.firstEncoding === null) {
      this.firstEncoding = encoding;
      return (this.firstBytes = encoding.encode(this.json));
    }
    const others = (this.otherBytes ??= new Map());
    let bytes = others.get(encoding);
    if (bytes === undefined) {
      bytes = encoding.encode(this.json);
      others.set(encoding, bytes);
    }
    return bytes;
  }
}
