/**
 * A gzip worker of the page's pool (gzip-pool.ts): each block it is sent comes back as one gzip member,
 * with the block's buffer handed back for reuse.
 */
import { gzipMember } from '../../core/codecs/gzip-members.ts';

export type GzipRequest = { id: number; block: Uint8Array<ArrayBuffer> };
export type GzipReply = { id: number; member: Uint8Array; spare: ArrayBuffer } | { id: number; error: string };

const scope = globalThis as unknown as {
  addEventListener(type: 'message', listener: (event: MessageEvent<GzipRequest>) => void): void;
  postMessage(message: GzipReply, transfer: Transferable[]): void;
};

scope.addEventListener('message', (event) => {
  const { id, block } = event.data;
  gzipMember(block).then(
    (member) => scope.postMessage({ id, member, spare: block.buffer }, [member.buffer, block.buffer]),
    (error: unknown) => scope.postMessage({ id, error: String(error) }, []),
  );
});
