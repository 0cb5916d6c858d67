/** The session's request() resolves with the ack result of its request type (checked by tsc in public-surface.test.ts). */
import type { AckResultOf } from '@switchboard/protocol';
import { expectTypeOf } from 'vitest';
import type { Session } from '../../src/session/session.js';

declare const session: Session;
expectTypeOf(session.request({ type: 'post', to: 'lobby', message: 1 })).resolves.toEqualTypeOf<AckResultOf<'post'>>();
expectTypeOf(session.request({ type: 'join', group: null })).resolves.toEqualTypeOf<{ group: string | null }>();
expectTypeOf(session.request({ type: 'ice' })).resolves.toEqualTypeOf<AckResultOf<'ice'>>();
expectTypeOf(session.request({ type: 'list_groups', searchFor: 'group', value: ' ' })).resolves.toEqualTypeOf<AckResultOf<'list_groups'>>();
expectTypeOf(session.request({ type: 'rtc', to: 'cid:x', call: 'c', signal: { kind: 'accept' } }))
  .resolves.toHaveProperty('delivered')
  .toBeNumber();
// @ts-expect-error a join is acked with {group}, not {delivered}
void session.request({ type: 'join', group: 'g' }).then((result) => result.delivered);
