/** Lambda's runtime for the Python runners' functions and their packages' layer: one place for both. */
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';

/** Lambda's Python runtime for the runners' functions (3.12 or newer, as their code requires). */
export const PYTHON_RUNTIME = Runtime.PYTHON_3_13;

/**
 * x86_64, not the ARM64 of the Node functions: photutils publishes Linux ARM64 wheels only from 3.1, which needs
 * Python 3.12, while the machines that test the runners run Python 3.11; on x86_64 one lock serves both, and
 * the function runs the very photutils wheel the tests ran. With Python 3.12+ here, re-lock and switch to ARM64.
 */
export const PYTHON_ARCHITECTURE = Architecture.X86_64;
