import { createSocket, type Socket } from 'node:dgram';

/**
 * The only name server a fenced cell can reach: it answers every query "no such name" and keeps
 * the names asked for, so that a job reaching for a host the scenario does not define fails as
 * it would for a misspelt host, and the results can name that host. Names of the scenario's hosts
 * never get here: the hosts file answers them.
 */
export class RefusingNameServer {
  private names = new Set<string>();

  private constructor(private readonly socket: Socket) {
    socket.on('message', (query, peer) => {
      const reply = nameErrorReply(query);
      if (!reply) return;
      const name = questionName(query);
      if (name) this.names.add(name);
      socket.send(reply, peer.port, peer.address);
    });
  }

  static start(address = '127.0.0.1', port = 53): Promise<RefusingNameServer> {
    const socket = createSocket('udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => {
        socket.off('error', reject);
        resolve(new RefusingNameServer(socket));
      });
    });
  }

  /** Names looked up since the last call. */
  takeNames(): string[] {
    const names = [...this.names];
    this.names = new Set();
    return names;
  }

  close(): void {
    this.socket.close();
  }
}

const HEADER_BYTES = 12;

/** The first question's name (RFC 1035 4.1.2) and where the question ends, or undefined for a malformed query. */
function firstQuestion(query: Buffer): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let offset = HEADER_BYTES;
  while (offset < query.length) {
    const length = query[offset]!;
    if (length === 0) {
      const end = offset + 1 + 4; // QTYPE and QCLASS
      return end <= query.length ? { name: labels.join('.').toLowerCase(), end } : undefined;
    }
    // A question name is never compressed; a pointer here means a malformed query.
    if (length > 63 || offset + 1 + length > query.length) return undefined;
    labels.push(query.toString('latin1', offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  return undefined;
}

export function questionName(query: Buffer): string | undefined {
  return firstQuestion(query)?.name;
}

/** The query's header and question sent back as a response with RCODE 3 (NXDOMAIN) and nothing else. */
export function nameErrorReply(query: Buffer): Buffer | undefined {
  if (query.length < HEADER_BYTES || (query[2]! & 0x80) !== 0) return undefined;
  const question = firstQuestion(query);
  if (!question) return undefined;
  const reply = Buffer.from(query.subarray(0, question.end));
  // QR = response, keep the opcode and RD; RA = 1, RCODE = 3.
  reply[2] = 0x80 | (query[2]! & 0x79);
  reply[3] = 0x80 | 0x03;
  reply.writeUInt16BE(1, 4);
  reply.writeUInt16BE(0, 6);
  reply.writeUInt16BE(0, 8);
  reply.writeUInt16BE(0, 10);
  return reply;
}
