import type { ImageSignature } from '../features/signing/image-signature.js';

const BADGES: Record<ImageSignature['state'], string> = {
  verified: 'ok',
  signed: '',
  unsigned: '',
  invalid: 'warn',
};

/** An image's signature in a few words: state, algorithm and layout, the key, who signed (issue 17). */
export function SignatureState({ signature }: { signature: ImageSignature | null }) {
  if (!signature) return <span class="muted">signature not recorded</span>;
  const how = [signature.algorithm, signature.layout ? `(${signature.layout})` : ''].filter(Boolean).join(' ');
  return (
    <span class="signature" data-signature-state={signature.state}>
      <span class={`badge ${BADGES[signature.state]}`}>{signature.state}</span>
      {how && ` ${how}`}
      {signature.keyDigests.length > 0 && (
        <>
          {' '}
          key{' '}
          <code title={signature.keyDigests.join(', ')}>
            {signature.keyDigests.map((d) => d.slice(0, 12)).join(', ')}
          </code>
        </>
      )}
      {signature.signedByServer && ', signed by this server'}
    </span>
  );
}
