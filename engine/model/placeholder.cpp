// placeholder until the model lands
namespace r1 { int model_placeholder() { return 0; } }
