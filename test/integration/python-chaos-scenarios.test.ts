/**
 * The named chaos scenarios (test/helpers/named-chaos-scenarios.ts) over runners written in Python: the same
 * faults, aimed the same way, with the same outcomes as for TypeScript runners, the runs in their own functions.
 */
import { describeNamedScenarios } from '../helpers/named-chaos-scenarios';

describeNamedScenarios('Python');
