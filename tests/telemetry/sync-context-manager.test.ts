// The context manager voxq's processes run: the active context lasts for the synchronous
// extent of with() only, and is restored on every way out.
import { createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { SyncContextManager } from '../../src/shared/telemetry/sync-context-manager.js';

const KEY = createContextKey('voxq.test');
const ctx = (value: string) => ROOT_CONTEXT.setValue(KEY, value);
const valueOf = (manager: SyncContextManager) => manager.active().getValue(KEY);

describe('SyncContextManager', () => {
  it('makes a context active inside with(), nested, and restores the outer one after', () => {
    const manager = new SyncContextManager();
    expect(manager.active()).toBe(ROOT_CONTEXT);
    const seen = manager.with(ctx('outer'), () => {
      const inner = manager.with(ctx('inner'), () => valueOf(manager));
      return [inner, valueOf(manager)];
    });
    expect(seen).toEqual(['inner', 'outer']);
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });

  it('restores the outer context when the callback throws', () => {
    const manager = new SyncContextManager();
    expect(() =>
      manager.with(ctx('failing'), () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });

  it('passes this and the arguments through, and returns what the callback returns', () => {
    const manager = new SyncContextManager();
    const target = { base: 10 };
    const sum = manager.with(ctx('x'), function (this: typeof target, a: number, b: number) {
      return this.base + a + b;
    }, target, 1, 2);
    expect(sum).toBe(13);
  });

  it('does not follow an await: code after it runs in whatever is active then (voxq passes context by hand)', async () => {
    const manager = new SyncContextManager();
    const after = await manager.with(ctx('request'), async () => {
      const before = valueOf(manager);
      await Promise.resolve();
      return [before, valueOf(manager)];
    });
    expect(after).toEqual(['request', undefined]);
  });

  it('bind() runs a function in the bound context whenever it is called; other values pass through', () => {
    const manager = new SyncContextManager();
    const bound = manager.bind(ctx('bound'), (suffix: string) => `${String(valueOf(manager))}${suffix}`);
    expect(bound('!')).toBe('bound!');
    expect(manager.active()).toBe(ROOT_CONTEXT);
    const plain = { not: 'a function' };
    expect(manager.bind(ctx('bound'), plain)).toBe(plain);
  });

  it('disable() drops back to the root context', () => {
    const manager = new SyncContextManager().enable();
    manager.with(ctx('left'), () => {
      manager.disable();
      expect(manager.active()).toBe(ROOT_CONTEXT);
    });
  });
});
