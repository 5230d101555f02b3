/**
 * How the members of a group are split over several client driver processes. The last `drivers` members are the
 * acknowledging receivers, one per driver (member `members - drivers + d` belongs to driver d); the others go round
 * robin (member i to driver i % drivers). Senders are members 0..senders-1, so `senders <= members - drivers`.
 * Each driver runs the closed loop of its own senders with its own acknowledging receiver, so no driver ever waits
 * on another.
 */
export interface Split {
  members: number;
  senders: number;
  drivers: number;
}

/** The driver that owns member `index`. */
export function ownerOf(index: number, split: Split): number {
  const firstAck = split.members - split.drivers;
  return index >= firstAck ? index - firstAck : index % split.drivers;
}

/** The member that acknowledges driver `driver`'s messages. */
export function ackMemberOf(driver: number, split: Split): number {
  return split.members - split.drivers + driver;
}

/** How many of a group's senders driver `driver` owns. */
export function sendersOwnedBy(driver: number, split: Split): number {
  let n = 0;
  for (let s = 0; s < split.senders; s++) if (ownerOf(s, split) === driver) n++;
  return n;
}

/** Throws when the split cannot work: a sender would also be an acknowledging receiver, or a driver would own none. */
export function checkSplit(split: Split): void {
  if (split.drivers < 1) throw new Error('at least one client driver is needed');
  if (split.senders > split.members - split.drivers) {
    throw new Error(`${split.senders} senders and ${split.drivers} acknowledging receivers do not fit in ${split.members} members`);
  }
  if (split.senders < split.drivers) throw new Error('every client driver needs at least one sender');
}
