/** The named chaos scenarios (test/helpers/named-chaos-scenarios.ts) over runners written in TypeScript. */
import { describeNamedScenarios } from '../helpers/named-chaos-scenarios';

describeNamedScenarios('TypeScript');
