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
    <name>r1::app::ClusterController</name>
    <message>
        <source>~/.ssh/config has no Host entry &apos;%1&apos;</source>
        <translation>~/.ssh/config 中没有 Host 条目“%1”</translation>
    </message>
    <message>
        <source>driver CUDA %1</source>
        <translation>驱动 CUDA %1</translation>
    </message>
    <message>
        <source>not found (%1)</source>
        <translation>未找到（%1）</translation>
    </message>
    <message>
        <source>r1-worker &apos;%1&apos; was not found on the node</source>
        <translation>节点上未找到 r1-worker“%1”</translation>
    </message>
    <message>
        <source>Checking host keys…</source>
        <translation>正在检查主机密钥…</translation>
    </message>
    <message numerus="yes">
        <source>%n node(s) present a host key other than the one in known_hosts: refused. Check with the node&apos;s administrator before removing the old key.</source>
        <translation>
            <numerusform>%n 个节点提供的主机密钥与 known_hosts 中的不同：已拒绝。删除旧密钥前请先与节点管理员核实。</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n node(s) are not trusted yet: compare the fingerprints, then Trust.</source>
        <translation>
            <numerusform>%n 个节点尚未受信任：请核对指纹，然后点击“信任”。</numerusform>
        </translation>
    </message>
    <message>
        <source>Every node&apos;s host key is known.</source>
        <translation>所有节点的主机密钥均已知。</translation>
    </message>
    <message>
        <source>Trusting host keys…</source>
        <translation>正在信任主机密钥…</translation>
    </message>
    <message>
        <source>Host keys added to %1.</source>
        <translation>主机密钥已加入 %1。</translation>
    </message>
    <message numerus="yes">
        <source>Probing %n node(s)…</source>
        <translation>
            <numerusform>正在探测 %n 个节点…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n node(s) could not be reached: see Health.</source>
        <translation>
            <numerusform>%n 个节点无法连接：见“健康状况”。</numerusform>
        </translation>
    </message>
    <message>
        <source>Every node answered.</source>
        <translation>所有节点均已响应。</translation>
    </message>
    <message>
        <source>unreadable</source>
        <translation>无法读取</translation>
    </message>
    <message numerus="yes">
        <source>Launching on %n node(s)…</source>
        <translation>
            <numerusform>正在 %n 个节点上启动…</numerusform>
        </translation>
    </message>
    <message>
        <source>Job %1 started.</source>
        <translation>作业 %1 已启动。</translation>
    </message>
    <message>
        <source>Stopping %1…</source>
        <translation>正在停止 %1…</translation>
    </message>
    <message>
        <source>Stopped %1.</source>
        <translation>已停止 %1。</translation>
    </message>
    <message>
        <source>Attaching to %1…</source>
        <translation>正在附加到 %1…</translation>
    </message>
    <message>
        <source>Resuming %1…</source>
        <translation>正在恢复 %1…</translation>
    </message>
    <message>
        <source>Job %1 resumed from its last checkpoint.</source>
        <translation>作业 %1 已从最近的检查点恢复。</translation>
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
    <message>
        <source>Cluster</source>
        <translation>集群</translation>
    </message>
    <message>
        <source>Job %1: %2</source>
        <translation>作业 %1：%2</translation>
    </message>
    <message>
        <source>Job %1: %2 — %3</source>
        <translation>作业 %1：%2 — %3</translation>
    </message>
    <message>
        <source>Open cluster profile</source>
        <translation>打开集群配置</translation>
    </message>
    <message>
        <source>Cluster profiles (*.toml);;All files (*)</source>
        <translation>集群配置 (*.toml);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Cannot open profile</source>
        <translation>无法打开配置</translation>
    </message>
    <message>
        <source>Save cluster profile</source>
        <translation>保存集群配置</translation>
    </message>
    <message>
        <source>Cluster profiles (*.toml)</source>
        <translation>集群配置 (*.toml)</translation>
    </message>
    <message>
        <source>Cannot save profile</source>
        <translation>无法保存配置</translation>
    </message>
    <message>
        <source>Import hostfile</source>
        <translation>导入 hostfile</translation>
    </message>
    <message>
        <source>Hostfiles (*);;All files (*)</source>
        <translation>Hostfile (*);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Cannot import hostfile</source>
        <translation>无法导入 hostfile</translation>
    </message>
    <message>
        <source>Cannot read ~/.ssh/config</source>
        <translation>无法读取 ~/.ssh/config</translation>
    </message>
    <message>
        <source>Add SSH host</source>
        <translation>添加 SSH 主机</translation>
    </message>
    <message>
        <source>~/.ssh/config has no Host entries without wildcards.</source>
        <translation>~/.ssh/config 中没有不含通配符的 Host 条目。</translation>
    </message>
    <message>
        <source>Host entry of ~/.ssh/config:</source>
        <translation>~/.ssh/config 中的 Host 条目：</translation>
    </message>
    <message>
        <source>Cannot add host</source>
        <translation>无法添加主机</translation>
    </message>
    <message>
        <source>Trust host keys</source>
        <translation>信任主机密钥</translation>
    </message>
    <message>
        <source>No selected node has an unknown host key. Run &quot;Check host keys&quot; first.</source>
        <translation>所选节点中没有未知的主机密钥。请先运行“检查主机密钥”。</translation>
    </message>
    <message>
        <source>Trust these host keys? Compare each fingerprint with the one the node&apos;s administrator gave you (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub).</source>
        <translation>信任这些主机密钥吗？请将每个指纹与节点管理员提供的指纹核对（ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub）。</translation>
    </message>
    <message>
        <source>Trust</source>
        <translation>信任</translation>
    </message>
    <message>
        <source>Fix the highlighted fields of the experiment first.</source>
        <translation>请先修正实验中标出的字段。</translation>
    </message>
    <message numerus="yes">
        <source>%1 — %n node(s), not saved</source>
        <translation>
            <numerusform>%1 — %n 个节点，未保存</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 — %2</source>
        <translation>%1 — %2</translation>
    </message>
    <message>
        <source>cluster job %1</source>
        <translation>集群作业 %1</translation>
    </message>
    <message>
        <source>Following cluster job %1</source>
        <translation>正在跟踪集群作业 %1</translation>
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
    <name>r1::widgets::ClusterView</name>
    <message>
        <source>No cluster profile: open one, import a hostfile or add hosts from ~/.ssh/config</source>
        <translation>没有集群配置：请打开一个配置、导入 hostfile 或从 ~/.ssh/config 添加主机</translation>
    </message>
    <message>
        <source>Open profile…</source>
        <translation>打开配置…</translation>
    </message>
    <message>
        <source>Open a cluster profile (.toml)</source>
        <translation>打开集群配置（.toml）</translation>
    </message>
    <message>
        <source>Save profile…</source>
        <translation>保存配置…</translation>
    </message>
    <message>
        <source>Save the nodes and settings as a profile</source>
        <translation>将节点和设置保存为配置</translation>
    </message>
    <message>
        <source>Import hostfile…</source>
        <translation>导入 hostfile…</translation>
    </message>
    <message>
        <source>Add the nodes of a DeepSpeed-style hostfile (host slots=N)</source>
        <translation>添加 DeepSpeed 风格 hostfile 中的节点（host slots=N）</translation>
    </message>
    <message>
        <source>Add SSH host…</source>
        <translation>添加 SSH 主机…</translation>
    </message>
    <message>
        <source>Add a Host entry of ~/.ssh/config as a node</source>
        <translation>将 ~/.ssh/config 中的 Host 条目添加为节点</translation>
    </message>
    <message>
        <source>Check host keys</source>
        <translation>检查主机密钥</translation>
    </message>
    <message>
        <source>Compare each node&apos;s SSH host key with known_hosts</source>
        <translation>将每个节点的 SSH 主机密钥与 known_hosts 比对</translation>
    </message>
    <message>
        <source>Trust…</source>
        <translation>信任…</translation>
    </message>
    <message>
        <source>Show the fingerprints of the selected nodes&apos; keys and trust them</source>
        <translation>显示所选节点密钥的指纹并信任它们</translation>
    </message>
    <message>
        <source>Probe</source>
        <translation>探测</translation>
    </message>
    <message>
        <source>Connect to every node and read its OS, CPUs, memory, GPUs and r1-worker</source>
        <translation>连接每个节点，读取其操作系统、CPU、内存、GPU 和 r1-worker</translation>
    </message>
    <message>
        <source>Launch on cluster</source>
        <translation>在集群上启动</translation>
    </message>
    <message>
        <source>Start the experiment of the form on every node (one rank per GPU or CPU slot)</source>
        <translation>在每个节点上启动表单中的实验（每个 GPU 或 CPU 槽位一个 rank）</translation>
    </message>
    <message>
        <source>Jobs</source>
        <translation>作业</translation>
    </message>
    <message>
        <source>Attach</source>
        <translation>附加</translation>
    </message>
    <message>
        <source>Follow the job again: fetch the events missed while the workbench was closed, then stream</source>
        <translation>重新跟踪作业：先取回工作台关闭期间错过的事件，再实时接收</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>SIGTERM every rank, SIGKILL after the grace period, then check that nothing is left</source>
        <translation>向每个 rank 发送 SIGTERM，宽限期后发送 SIGKILL，然后确认没有残留进程</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>恢复</translation>
    </message>
    <message>
        <source>Start the job again from its last checkpoint</source>
        <translation>从最近的检查点重新启动作业</translation>
    </message>
    <message>
        <source>Log lines of the selected job&apos;s ranks appear here</source>
        <translation>所选作业各 rank 的日志显示在这里</translation>
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
    <name>r1::widgets::JobTableModel</name>
    <message>
        <source>Job</source>
        <translation>作业</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Ranks</source>
        <translation>Rank 数</translation>
    </message>
    <message>
        <source>Started</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <source>Last checkpoint</source>
        <translation>最近检查点</translation>
    </message>
    <message>
        <source>Cause</source>
        <translation>原因</translation>
    </message>
    <message numerus="yes">
        <source>%n GPU rank(s)</source>
        <translation>
            <numerusform>%n 个 GPU rank</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n CPU rank(s)</source>
        <translation>
            <numerusform>%n 个 CPU rank</numerusform>
        </translation>
    </message>
    <message>
        <source>step %1</source>
        <translation>第 %1 步</translation>
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
    <name>r1::widgets::NodeTableModel</name>
    <message>
        <source>%1 GiB (%2 free)</source>
        <translation>%1 GiB（可用 %2）</translation>
    </message>
    <message>
        <source>Node</source>
        <translation>节点</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Ranks</source>
        <translation>Rank 数</translation>
    </message>
    <message>
        <source>Host key</source>
        <translation>主机密钥</translation>
    </message>
    <message>
        <source>Health</source>
        <translation>健康状况</translation>
    </message>
    <message>
        <source>Latency</source>
        <translation>延迟</translation>
    </message>
    <message>
        <source>OS</source>
        <translation>操作系统</translation>
    </message>
    <message>
        <source>CPUs</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>内存</translation>
    </message>
    <message>
        <source>GPUs</source>
        <translation>GPU</translation>
    </message>
    <message>
        <source>CUDA / NCCL</source>
        <translation>CUDA / NCCL</translation>
    </message>
    <message>
        <source>r1-worker</source>
        <translation>r1-worker</translation>
    </message>
    <message numerus="yes">
        <source>%n GPU(s)</source>
        <translation>
            <numerusform>%n 个 GPU</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n CPU slot(s)</source>
        <translation>
            <numerusform>%n 个 CPU 槽位</numerusform>
        </translation>
    </message>
    <message>
        <source>trusted</source>
        <translation>已信任</translation>
    </message>
    <message>
        <source>not trusted yet</source>
        <translation>尚未信任</translation>
    </message>
    <message>
        <source>CHANGED</source>
        <translation>已变更！</translation>
    </message>
    <message>
        <source>no key read</source>
        <translation>未读取到密钥</translation>
    </message>
    <message>
        <source>not checked</source>
        <translation>未检查</translation>
    </message>
    <message>
        <source>ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>needs attention</source>
        <translation>需要处理</translation>
    </message>
    <message>
        <source>unreachable</source>
        <translation>无法连接</translation>
    </message>
    <message>
        <source>not probed</source>
        <translation>未探测</translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation>%1 毫秒</translation>
    </message>
</context>
<context>
    <name>r1::widgets::RankTableModel</name>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>exited (%1)</source>
        <translation>已退出（%1）</translation>
    </message>
    <message>
        <source>not running</source>
        <translation>未运行</translation>
    </message>
    <message>
        <source>Rank</source>
        <translation>Rank</translation>
    </message>
    <message>
        <source>Node</source>
        <translation>节点</translation>
    </message>
    <message>
        <source>Local rank</source>
        <translation>本地 rank</translation>
    </message>
    <message>
        <source>PID</source>
        <translation>PID</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Events</source>
        <translation>事件数</translation>
    </message>
    <message>
        <source>Last error</source>
        <translation>最近错误</translation>
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
