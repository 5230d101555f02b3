/** Number of hash slots of Redis Cluster. */
const SLOTS = 16384;

/**
 * The Redis Cluster hash slot of a key or channel: CRC16 (XMODEM) of its hash tag (the part between the first `{` and
 * the next `}`, when not empty) or of the whole name, modulo 16384.
 */
export function keySlot(key: string): number {
  let hashed = key;
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(hashed)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % SLOTS;
}
