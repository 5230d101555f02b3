/**
 * The part of a test runner's API the contract suite uses (vitest's, mocha's and node:test's fit), passed in by the
 * caller so that the suite needs no test runner at run time. A body's rejection fails the test.
 */
export interface TestApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>): void;
  afterEach(body: () => Promise<void>): void;
}
