// Anchor for the shared precompiled header of the LibTorch tests.
