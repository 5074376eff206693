#pragma once

#include <QString>

namespace r1::app {

class RunStore;

// Writes the run's metrics, as far as the store has flushed them, as a TensorBoard event file
// <dir>/events.out.tfevents.<unix-seconds>.<hostname>.r1 (dir is created when missing), so that
// `tensorboard --logdir <dir>` shows them. The first record holds file_version "brain.Event:2";
// then one Event per (step, wall time) of the store, holding one scalar per metric key at
// that point, tagged by the key ("loss", "val_loss", "expert_load/0/3" …). NaN values are
// skipped. The file is written under a temporary name and renamed when complete.
// On success *path names the file; on failure *error says which run and folder and why
// (either pointer may be null). Without protobuf at build time it always fails with
// "built without protobuf".
bool exportTfEvents(const RunStore& store, const QString& runId, const QString& dir,
                    QString* path, QString* error);

}  // namespace r1::app
