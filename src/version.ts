/** Kept equal to package.json's version (a test checks); a constant so a bundle carries it. */
export const VERSION = "0.1.0";
