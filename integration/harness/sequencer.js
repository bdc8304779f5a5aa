// Runs the emulator canaries first, then every other integration suite in path order.
const Sequencer = require('@jest/test-sequencer').default;

class CanariesFirst extends Sequencer {
  sort(tests) {
    if (!tests.some((t) => t.path.includes('/integration/'))) return super.sort(tests);
    const rank = (t) => (t.path.includes('/canaries/') ? 0 : 1);
    return [...tests].sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
  }
}

module.exports = CanariesFirst;
