/**
 * The setup every demo e2e file shares: a loopback-only network namespace, Chromium inside it,
 * the demo served by a real server (or the mock build), people opened on it and closed after
 * each test, with screenshots of failures and no console errors allowed. Call `demoSuite()`
 * inside a `describeWith(['chromium', 'netns'], …)` block.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { createNetns, launchChromium, type Netns } from '@switchboard/test-utils';
import { newRoom, Person, type OpenOptions } from './person.js';
import { buildDemoIfStale, clearFailureShots, MOCK, mockTarget, serverTarget, type Target } from './targets.js';

export interface DemoSuite {
  readonly ns: Netns;
  readonly browser: Browser;
  readonly target: Target;
  open(name: string, query: string, options?: OpenOptions): Promise<Person>;
  /** Ada and Grace open the demo in one new room and join it. */
  twoInRoom(options?: OpenOptions): Promise<[Person, Person]>;
  /** Ada calls Grace, Grace accepts, both see "Connected". */
  inCall(options?: OpenOptions): Promise<[Person, Person]>;
}

export interface DemoSuiteOptions {
  /** Namespace label. */
  label: string;
  /** Extra Chromium flags (e.g. more fake cameras). */
  args?: string[];
}

export function demoSuite(options: DemoSuiteOptions): DemoSuite {
  let ns: Netns | undefined;
  let browser: Browser | undefined;
  let target: Target | undefined;
  const people: Person[] = [];

  beforeAll(async () => {
    clearFailureShots();
    buildDemoIfStale();
    ns = createNetns(options.label);
    browser = await launchChromium({ netns: ns, ...(options.args ? { args: options.args } : {}) });
    target = MOCK ? await mockTarget(browser) : await serverTarget(browser, ns, 'off');
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') {
      for (const person of people) await person.shot(`failed-${person.name}`).catch(() => undefined);
    }
    const problems = people.flatMap((p) => p.problems.map((problem) => `${p.name}: ${problem}`));
    await Promise.all(people.splice(0).map((p) => p.close()));
    expect(problems, 'no console errors or uncaught exceptions').toEqual([]);
  });

  afterAll(async () => {
    await target?.close();
    await browser?.close();
    ns?.delete();
  });

  const suite: DemoSuite = {
    get ns() {
      if (!ns) throw new Error('demoSuite: used before beforeAll');
      return ns;
    },
    get browser() {
      if (!browser) throw new Error('demoSuite: used before beforeAll');
      return browser;
    },
    get target() {
      if (!target) throw new Error('demoSuite: used before beforeAll');
      return target;
    },
    async open(name, query, openOptions = {}) {
      const person = await Person.open(suite.target, name, query, openOptions);
      people.push(person);
      return person;
    },
    async twoInRoom(openOptions = {}) {
      const room = newRoom();
      const ada = await suite.open('Ada', `?room=${room}`, openOptions);
      const grace = await suite.open('Grace', `?room=${room}`, openOptions);
      await ada.join();
      await grace.join();
      return [ada, grace];
    },
    async inCall(openOptions = {}) {
      const [ada, grace] = await suite.twoInRoom(openOptions);
      await ada.sees('Grace');
      await ada.call('Grace');
      await grace.incoming('Ada').getByRole('button', { name: 'Accept' }).click();
      await Promise.all([ada.inCall(), grace.inCall()]);
      return [ada, grace];
    },
  };
  return suite;
}
