// A Stryker reporter that writes each surviving (or uncovered) mutant to
// reports/mutation/survivors-live.txt (or $STRYKER_LIVE_FILE) as soon as it is tested, so a long run can be acted on
// before it ends. Enabled in stryker.config.mjs (reporter "stream-survivors").
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PluginKind, declareClassPlugin } from '@stryker-mutator/api/plugin';

const FILE = process.env.STRYKER_LIVE_FILE ?? 'reports/mutation/survivors-live.txt';

class StreamSurvivorsReporter {
  onDryRunCompleted() {
    mkdirSync(dirname(FILE), { recursive: true });
    writeFileSync(FILE, '');
  }

  onMutantTested(result) {
    if (result.status !== 'Survived' && result.status !== 'NoCoverage') return;
    const { line, column } = result.location.start;
    const original = readFileSync(result.fileName, 'utf8').split('\n')[line - 1]?.trim() ?? '';
    appendFileSync(
      FILE,
      `${result.fileName}:${line}:${column + 1} ${result.status} ${result.mutatorName}: ` +
        `${JSON.stringify(result.replacement ?? '')}  | ${original}\n`,
    );
  }
}

export const strykerPlugins = [
  declareClassPlugin(PluginKind.Reporter, 'stream-survivors', StreamSurvivorsReporter),
];
