<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ConfigBridge</name>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>数据</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Evaluation</source>
        <translation>评估</translation>
    </message>
    <message>
        <source>Checkpoints</source>
        <translation>检查点</translation>
    </message>
</context>
<context>
    <name>QObject</name>
    <message>
        <source>R1 Workbench</source>
        <translation>R1 工作台</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Switch language after the run.</source>
        <translation>请在运行结束后切换语言。</translation>
    </message>
</context>
<context>
    <name>TfEvents</name>
    <message>
        <source>Cannot export run %1 as TensorBoard events to %2: %3</source>
        <translation>无法将运行 %1 导出为 TensorBoard 事件到 %2：%3</translation>
    </message>
    <message>
        <source>built without protobuf</source>
        <translation>构建时未启用 protobuf</translation>
    </message>
    <message>
        <source>no such run</source>
        <translation>没有该运行</translation>
    </message>
    <message>
        <source>cannot create the folder</source>
        <translation>无法创建文件夹</translation>
    </message>
</context>
<context>
    <name>r1::app::ExperimentEditor</name>
    <message numerus="yes">
        <source>%n field(s) invalid; %1: %2</source>
        <translation>
            <numerusform>%n 个字段无效；%1：%2</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>r1::app::MainWindow</name>
    <message>
        <source>R1 Workbench</source>
        <translation>R1 工作台</translation>
    </message>
    <message>
        <source>Target:</source>
        <translation>目标：</translation>
    </message>
    <message>
        <source>Local — CPU</source>
        <translation>本机 — CPU</translation>
    </message>
    <message>
        <source>Local — CUDA GPU %1</source>
        <translation>本机 — CUDA GPU %1</translation>
    </message>
    <message>
        <source>Launch</source>
        <translation>启动</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>&amp;Launch</source>
        <translation>启动(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>停止(&amp;S)</translation>
    </message>
    <message>
        <source>Stopping at the next step…</source>
        <translation>将在下一步停止…</translation>
    </message>
    <message>
        <source>Charts</source>
        <translation>图表</translation>
    </message>
    <message>
        <source>Logs</source>
        <translation>日志</translation>
    </message>
    <message>
        <source>History</source>
        <translation>历史</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>Loss (train, validation)</source>
        <translation>损失（训练、验证）</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>Tokens / s</source>
        <translation>词元/秒</translation>
    </message>
    <message>
        <source>Gradient norm</source>
        <translation>梯度范数</translation>
    </message>
    <message>
        <source>Expert load (max / mean per MoE layer)</source>
        <translation>专家负载（每个 MoE 层的最大值/平均值）</translation>
    </message>
    <message>
        <source>MFU</source>
        <translation>MFU（模型算力利用率）</translation>
    </message>
    <message>
        <source>Loss scale</source>
        <translation>损失缩放</translation>
    </message>
    <message>
        <source>GPU utilization (%)</source>
        <translation>GPU 利用率（%）</translation>
    </message>
    <message>
        <source>GPU memory (MB)</source>
        <translation>GPU 显存（MB）</translation>
    </message>
    <message>
        <source>All levels</source>
        <translation>全部级别</translation>
    </message>
    <message>
        <source>Info and above</source>
        <translation>信息及以上</translation>
    </message>
    <message>
        <source>Warnings and errors</source>
        <translation>警告和错误</translation>
    </message>
    <message>
        <source>Errors</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>Search logs</source>
        <translation>搜索日志</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Show / compare selected</source>
        <translation>显示/对比所选</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open experiment…</source>
        <translation>打开实验(&amp;O)…</translation>
    </message>
    <message>
        <source>&amp;Save experiment as…</source>
        <translation>实验另存为(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>运行(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>Fix the highlighted fields first.</source>
        <translation>请先修正标出的字段。</translation>
    </message>
    <message>
        <source>Starting %1…</source>
        <translation>正在启动 %1…</translation>
    </message>
    <message>
        <source>%1 · step %2 / %3 · loss %4 · %5 tokens/s · ETA %6:%7</source>
        <translation>%1 · 第 %2 / %3 步 · 损失 %4 · %5 词元/秒 · 剩余 %6:%7</translation>
    </message>
    <message>
        <source>%1 train</source>
        <translation>%1 训练</translation>
    </message>
    <message>
        <source>%1 layer %2</source>
        <translation>%1 第 %2 层</translation>
    </message>
    <message>
        <source>%1 validation</source>
        <translation>%1 验证</translation>
    </message>
    <message>
        <source>completed</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>%1 %2</source>
        <translation>%1 %2</translation>
    </message>
    <message>
        <source>Export metrics</source>
        <translation>导出指标</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>导出失败</translation>
    </message>
    <message>
        <source>Delete runs</source>
        <translation>删除运行</translation>
    </message>
    <message numerus="yes">
        <source>Delete %n run(s) from the history? Their folders on disk stay.</source>
        <translation>
            <numerusform>从历史中删除 %n 个运行？磁盘上的文件夹会保留。</numerusform>
        </translation>
    </message>
    <message>
        <source>Save experiment</source>
        <translation>保存实验</translation>
    </message>
    <message>
        <source>Experiments (*.toml)</source>
        <translation>实验文件 (*.toml)</translation>
    </message>
    <message>
        <source>Save failed</source>
        <translation>保存失败</translation>
    </message>
    <message>
        <source>Open experiment</source>
        <translation>打开实验</translation>
    </message>
    <message>
        <source>Cannot open</source>
        <translation>无法打开</translation>
    </message>
    <message>
        <source>Export TensorBoard…</source>
        <translation>导出 TensorBoard…</translation>
    </message>
    <message>
        <source>TensorBoard log folder</source>
        <translation>TensorBoard 日志文件夹</translation>
    </message>
    <message numerus="yes">
        <source>Exported %n run(s) to %1</source>
        <translation>
            <numerusform>已将 %n 个运行导出到 %1</numerusform>
        </translation>
    </message>
    <message>
        <source>Export charts as PNG…</source>
        <translation>将图表导出为 PNG…</translation>
    </message>
    <message>
        <source>Export charts as PNG</source>
        <translation>将图表导出为 PNG</translation>
    </message>
    <message>
        <source>Cannot write: %1</source>
        <translation>无法写入：%1</translation>
    </message>
    <message>
        <source>GPU temperature (°C)</source>
        <translation>GPU 温度（°C）</translation>
    </message>
    <message>
        <source>GPU power (W)</source>
        <translation>GPU 功耗（W）</translation>
    </message>
    <message>
        <source>Cannot launch</source>
        <translation>无法启动</translation>
    </message>
</context>
<context>
    <name>r1::app::RunStore</name>
    <message>
        <source>Cannot open the run store %1: %2</source>
        <translation>无法打开运行记录库 %1：%2</translation>
    </message>
    <message>
        <source>the Qt SQLite driver (QSQLITE) is not available</source>
        <translation>Qt SQLite 驱动（QSQLITE）不可用</translation>
    </message>
    <message>
        <source>it is not a file</source>
        <translation>它不是文件</translation>
    </message>
    <message>
        <source>cannot create the folder %1</source>
        <translation>无法创建文件夹 %1</translation>
    </message>
    <message>
        <source>its schema version %1 is newer than this program supports (%2)</source>
        <translation>其结构版本 %1 高于本程序支持的版本（%2）</translation>
    </message>
    <message>
        <source>it is an SQLite database of another program (tables, no schema version)</source>
        <translation>它是其他程序的 SQLite 数据库（有表但无结构版本）</translation>
    </message>
    <message>
        <source>cannot switch to WAL journaling (journal mode is %1)</source>
        <translation>无法切换到 WAL 日志模式（当前为 %1）</translation>
    </message>
    <message>
        <source>migration to schema version %1 failed: %2</source>
        <translation>迁移到结构版本 %1 失败：%2</translation>
    </message>
    <message>
        <source>Cannot add a run to %1: %2</source>
        <translation>无法向 %1 添加运行：%2</translation>
    </message>
    <message>
        <source>Cannot write to the run store %1: %2</source>
        <translation>无法写入运行记录库 %1：%2</translation>
    </message>
    <message>
        <source>Cannot export run %1 to %2: %3</source>
        <translation>无法将运行 %1 导出到 %2：%3</translation>
    </message>
    <message>
        <source>no such run</source>
        <translation>没有该运行</translation>
    </message>
</context>
<context>
    <name>r1::widgets::ExperimentForm</name>
    <message>
        <source>%1, from %2 to %3</source>
        <translation>%1，范围 %2 至 %3</translation>
    </message>
    <message>
        <source>%1 … %2</source>
        <translation>%1 … %2</translation>
    </message>
    <message>
        <source>comma-separated</source>
        <translation>以逗号分隔</translation>
    </message>
</context>
<context>
    <name>r1::widgets::MetricChart</name>
    <message>
        <source>Smoothing</source>
        <translation>平滑</translation>
    </message>
    <message>
        <source>Exponential moving average with debiasing, as in TensorBoard. 0 = off.</source>
        <translation>带去偏的指数移动平均（与 TensorBoard 相同）。0 = 关闭。</translation>
    </message>
    <message>
        <source>Log y</source>
        <translation>对数 y</translation>
    </message>
    <message>
        <source>Logarithmic y axis; values at or below zero are not drawn.</source>
        <translation>对数 y 轴；小于等于零的值不绘制。</translation>
    </message>
    <message>
        <source>X axis</source>
        <translation>X 轴</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>步数</translation>
    </message>
    <message>
        <source>Relative time</source>
        <translation>相对时间</translation>
    </message>
    <message>
        <source>Wall time</source>
        <translation>实际时间</translation>
    </message>
    <message>
        <source>Reset zoom</source>
        <translation>重置缩放</translation>
    </message>
    <message>
        <source>Relative time (s)</source>
        <translation>相对时间（秒）</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>Value (log scale)</source>
        <translation>数值（对数刻度）</translation>
    </message>
    <message>
        <source>step %1</source>
        <translation>第 %1 步</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 分 %2 秒</translation>
    </message>
    <message>
        <source>%1 h %2 min %3 s</source>
        <translation>%1 小时 %2 分 %3 秒</translation>
    </message>
    <message>
        <source>%1 (raw %2)</source>
        <translation>%1（原始 %2）</translation>
    </message>
    <message>
        <source>%1 at %2</source>
        <translation>%1，位于 %2</translation>
    </message>
    <message>
        <source>Last:</source>
        <translation>最新：</translation>
    </message>
    <message>
        <source>Show all data (or double-click the chart). On the chart: drag to zoom to a box (a flat box zooms x only), wheel to zoom x around the cursor, Ctrl+wheel to zoom y, right or middle drag or arrow keys to pan.</source>
        <translation>显示全部数据（或双击图表）。在图表上：拖动框选缩放（扁平的框只缩放 x），滚轮围绕光标缩放 x，Ctrl+滚轮缩放 y，右键或中键拖动、方向键平移。</translation>
    </message>
</context>
<context>
    <name>r1::widgets::RunListModel</name>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>completed</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>Best val loss</source>
        <translation>最佳验证损失</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <source>Duration</source>
        <translation>时长</translation>
    </message>
    <message>
        <source>Started</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <source>Tags</source>
        <translation>标签</translation>
    </message>
</context>
</TS>
