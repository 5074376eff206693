#pragma once
// The UI language: English source strings, or Simplified Chinese from the embedded .qm files
// (the UI strings, and the config form's labels and help).
#include <QString>

namespace r1::app {

// "en" or "zh_CN"; returns false if a translation could not be loaded (English stays).
bool installLanguage(const QString& locale);
QString systemLanguage();

}  // namespace r1::app
