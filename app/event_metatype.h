#pragma once
// Engine events travel through queued signals (QVector<r1::events::Event>).
#include "engine/events/event.h"

#include <QMetaType>

Q_DECLARE_METATYPE(r1::events::Event)
