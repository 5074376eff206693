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
        <source>GPU SM clock (MHz)</source>
        <translation>GPU SM 时钟（MHz）</translation>
    </message>
    <message>
        <source>CPU utilization (%)</source>
        <translation>CPU 利用率（%）</translation>
    </message>
    <message>
        <source>RAM used (GiB)</source>
        <translation>内存占用（GiB）</translation>
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
    <message>
        <source>Review</source>
        <translation>审阅</translation>
    </message>
    <message>
        <source>Open a folder of scans (LUNA16 layout or .mhd files)</source>
        <translation>打开扫描文件夹（LUNA16 结构或 .mhd 文件）</translation>
    </message>
    <message>
        <source>Candidates</source>
        <translation>候选</translation>
    </message>
    <message>
        <source>Open a folder of scans first.</source>
        <translation>请先打开扫描文件夹。</translation>
    </message>
    <message>
        <source>Open candidates to review</source>
        <translation>打开待审阅的候选</translation>
    </message>
    <message>
        <source>Candidate or submission CSV (*.csv);;All files (*)</source>
        <translation>候选或提交 CSV (*.csv);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Generate demo data</source>
        <translation>生成演示数据</translation>
    </message>
    <message>
        <source>This writes 4 phantom CT scans (about 70 MB) with nodules of known position and size, their annotations.csv, and demo candidates to review.

No detector made the demo candidates: they are a stand-in made from the phantom&apos;s known nodules (jittered, some left out) plus false positives at random lung positions with made-up scores. They show the review workflow, nothing about any model.

Choose the folder next (an empty one; otherwise a subfolder r1-review-demo is made).</source>
        <translation>将写入 4 个体模 CT 扫描（约 70 MB），其中结节的位置和大小已知，并写入它们的 annotations.csv 以及供审阅的演示候选。

演示候选并非由检测器生成：它们是替代品，由体模中已知的结节（加入抖动，部分被略去）加上肺内随机位置、分数为虚构的假阳性构成。它们只用于演示审阅流程，不代表任何模型的表现。

接下来请选择文件夹（空文件夹；否则会在其中新建子文件夹 r1-review-demo）。</translation>
    </message>
    <message>
        <source>Folder for the demo data</source>
        <translation>演示数据的文件夹</translation>
    </message>
    <message>
        <source>Wrote %1</source>
        <translation>已写入 %1</translation>
    </message>
    <message>
        <source>Export LUNA16 submission</source>
        <translation>导出 LUNA16 提交文件</translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation>CSV (*.csv)</translation>
    </message>
    <message>
        <source>Export review decisions</source>
        <translation>导出审阅决定</translation>
    </message>
    <message>
        <source>Export the current view</source>
        <translation>导出当前视图</translation>
    </message>
    <message>
        <source>PNG (*.png)</source>
        <translation>PNG (*.png)</translation>
    </message>
    <message>
        <source>Run detector</source>
        <translation>运行检测器</translation>
    </message>
    <message>
        <source>Detector checkpoint to run over every scan of the folder</source>
        <translation>要在文件夹中每个扫描上运行的检测器检查点</translation>
    </message>
    <message>
        <source>Detector checkpoint (*.r1ckpt);;All files (*)</source>
        <translation>检测器检查点 (*.r1ckpt);;所有文件 (*)</translation>
    </message>
</context>
<context>
    <name>r1::app::ReviewController</name>
    <message>
        <source>Review file: a missed nodule of series %1, not in this folder</source>
        <translation>审阅文件：漏检结节属于序列 %1，该序列不在此文件夹中</translation>
    </message>
    <message>
        <source>Review file: a decision on series %1, not in this folder</source>
        <translation>审阅文件：某条决定属于序列 %1，该序列不在此文件夹中</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <source>Opening %1…</source>
        <translation>正在打开 %1…</translation>
    </message>
    <message>
        <source>%1 holds no .mhd scans (neither subsetN/*.mhd nor *.mhd)</source>
        <translation>%1 中没有 .mhd 扫描（既无 subsetN/*.mhd，也无 *.mhd）</translation>
    </message>
    <message>
        <source>Reading scan headers</source>
        <translation>正在读取扫描头信息</translation>
    </message>
    <message numerus="yes">
        <source>%n candidate(s) name series that are not in this folder (left out).</source>
        <translation>
            <numerusform>%n 个候选所属的序列不在此文件夹中（已略去）。</numerusform>
        </translation>
    </message>
    <message>
        <source>Open a folder of scans first.</source>
        <translation>请先打开扫描文件夹。</translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation>%1 · %2</translation>
    </message>
    <message>
        <source>no candidate file</source>
        <translation>无候选文件</translation>
    </message>
    <message numerus="yes">
        <source>%n scan(s), %1 candidates, %2 annotated nodules</source>
        <translation>
            <numerusform>%n 个扫描，%1 个候选，%2 个标注结节</numerusform>
        </translation>
    </message>
    <message>
        <source>; restored %1 decisions and %2 missed nodules from %3</source>
        <translation>；已从 %3 恢复 %1 条决定和 %2 个漏检结节</translation>
    </message>
    <message>
        <source>Loading %1…</source>
        <translation>正在加载 %1…</translation>
    </message>
    <message>
        <source>Loading scan %1</source>
        <translation>正在加载扫描 %1</translation>
    </message>
    <message>
        <source>No candidate selected.</source>
        <translation>未选中候选。</translation>
    </message>
    <message>
        <source>This scan is reviewed. N goes to the next unreviewed candidate.</source>
        <translation>此扫描已审阅完毕。按 N 转到下一个未审阅的候选。</translation>
    </message>
    <message>
        <source>Every candidate at this threshold is reviewed.</source>
        <translation>此阈值下的所有候选均已审阅。</translation>
    </message>
    <message>
        <source>Nothing to undo.</source>
        <translation>没有可撤销的操作。</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>无法写入 %1：%2</translation>
    </message>
    <message>
        <source>No scan is shown.</source>
        <translation>当前未显示扫描。</translation>
    </message>
    <message>
        <source>Cannot write %1</source>
        <translation>无法写入 %1</translation>
    </message>
    <message numerus="yes">
        <source>Writing %n phantom scan(s)…</source>
        <translation>
            <numerusform>正在写入 %n 个体模扫描…</numerusform>
        </translation>
    </message>
    <message>
        <source>mAP@0.5 needs the candidates&apos; size: a diameter_mm column in the candidate CSV.</source>
        <translation>mAP@0.5 需要候选的大小：候选 CSV 中须有 diameter_mm 列。</translation>
    </message>
    <message>
        <source>No reference nodules yet: no annotations.csv, nothing accepted or marked as missed.</source>
        <translation>尚无参考结节：没有 annotations.csv，也没有已接受或标为漏检的结节。</translation>
    </message>
    <message numerus="yes">
        <source>CPU, %n thread(s)</source>
        <translation>
            <numerusform>CPU，%n 个线程</numerusform>
        </translation>
    </message>
    <message>
        <source>Cannot use %1 as a detector: %2</source>
        <translation>无法将 %1 用作检测器：%2</translation>
    </message>
    <message>
        <source>The detector stopped at scan %1: %2
The review is unchanged.</source>
        <translation>检测器在扫描 %1 处停止：%2
审阅未作任何更改。</translation>
    </message>
    <message>
        <source>Cannot find a free file name for %1 in %2</source>
        <translation>在 %2 中找不到可用于 %1 的文件名</translation>
    </message>
    <message>
        <source>The detector is already running.</source>
        <translation>检测器已在运行。</translation>
    </message>
    <message>
        <source>Loading the detector %1…</source>
        <translation>正在加载检测器 %1…</translation>
    </message>
    <message>
        <source>Detector: scan %1 of %2</source>
        <translation>检测器：第 %1 个扫描，共 %2 个</translation>
    </message>
    <message>
        <source>The detector failed: %1</source>
        <translation>检测器出错：%1</translation>
    </message>
    <message>
        <source>The detector finished on %1, but another folder is open now: its candidates were not written.</source>
        <translation>检测器已在 %1 上完成，但现在打开的是另一个文件夹：其候选未写入。</translation>
    </message>
    <message numerus="yes">
        <source>Detector %1 (%2): %n candidate(s) in %3 scan(s), written to %4.</source>
        <translation>
            <numerusform>检测器 %1（%2）：%3 个扫描中共 %n 个候选，已写入 %4。</numerusform>
        </translation>
    </message>
    <message>
        <source>Not read, so without candidates: %1.</source>
        <translation>无法读取，因此没有候选：%1。</translation>
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
    <name>r1::widgets::CandidateTableModel</name>
    <message>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <source>Slice</source>
        <translation>层面</translation>
    </message>
    <message>
        <source>Score</source>
        <translation>分数</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>决定</translation>
    </message>
    <message>
        <source>diameter %1 mm</source>
        <translation>直径 %1 mm</translation>
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
    <name>r1::widgets::Review</name>
    <message>
        <source>pending</source>
        <translation>待定</translation>
    </message>
    <message>
        <source>accepted</source>
        <translation>已接受</translation>
    </message>
    <message>
        <source>rejected</source>
        <translation>已拒绝</translation>
    </message>
    <message>
        <source>missed</source>
        <translation>漏检</translation>
    </message>
</context>
<context>
    <name>r1::widgets::ReviewView</name>
    <message>
        <source>&lt;b&gt;Demo candidates — a stand-in detector, not a model.&lt;/b&gt; They were generated from the phantom&apos;s known nodules (centres jittered, some nodules left out) plus false positives at random lung positions with random scores. Use them to try the review workflow only.</source>
        <translation>&lt;b&gt;演示候选——替代检测器，并非模型。&lt;/b&gt;它们由体模中已知的结节（中心加入抖动，部分结节被略去）加上肺内随机位置、分数随机的假阳性生成。仅用于体验审阅流程。</translation>
    </message>
    <message>
        <source>Open a folder of scans (LUNA16 layout or any folder of .mhd files), or generate demo data.</source>
        <translation>打开扫描文件夹（LUNA16 结构或任意含 .mhd 文件的文件夹），或生成演示数据。</translation>
    </message>
    <message>
        <source>Accept</source>
        <translation>接受</translation>
    </message>
    <message>
        <source>Reject</source>
        <translation>拒绝</translation>
    </message>
    <message>
        <source>Missed…</source>
        <translation>漏检…</translation>
    </message>
    <message>
        <source>Next unreviewed</source>
        <translation>下一个未审阅</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>Open folder…</source>
        <translation>打开文件夹…</translation>
    </message>
    <message>
        <source>A LUNA16 folder (subsetN/*.mhd, annotations.csv) or any folder of .mhd scans</source>
        <translation>LUNA16 文件夹（subsetN/*.mhd、annotations.csv）或任意含 .mhd 扫描的文件夹</translation>
    </message>
    <message>
        <source>Candidates…</source>
        <translation>候选…</translation>
    </message>
    <message>
        <source>A candidate or submission CSV to review (seriesuid, coordX, coordY, coordZ, probability[, diameter_mm])</source>
        <translation>待审阅的候选或提交 CSV（seriesuid、coordX、coordY、coordZ、probability[、diameter_mm]）</translation>
    </message>
    <message>
        <source>Generate demo data…</source>
        <translation>生成演示数据…</translation>
    </message>
    <message>
        <source>Writes phantom CT scans with known nodules and, as a stand-in detector, candidates made from those known nodules</source>
        <translation>写入含已知结节的体模 CT 扫描，并作为替代检测器，由这些已知结节生成候选</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>LUNA16 submission CSV…</source>
        <translation>LUNA16 提交 CSV…</translation>
    </message>
    <message>
        <source>Review decisions CSV…</source>
        <translation>审阅决定 CSV…</translation>
    </message>
    <message>
        <source>PNG of the current view…</source>
        <translation>当前视图的 PNG…</translation>
    </message>
    <message>
        <source>Window</source>
        <translation>窗宽窗位</translation>
    </message>
    <message>
        <source>Lung (W1500 L−600)</source>
        <translation>肺窗 (W1500 L−600)</translation>
    </message>
    <message>
        <source>Mediastinum (W400 L40)</source>
        <translation>纵隔窗 (W400 L40)</translation>
    </message>
    <message>
        <source>Bone (W2000 L500)</source>
        <translation>骨窗 (W2000 L500)</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>自定义</translation>
    </message>
    <message>
        <source>Keys 1, 2, 3; right-drag on the image for any window</source>
        <translation>按键 1、2、3；在图像上右键拖动可任意调窗</translation>
    </message>
    <message>
        <source>Score ≥</source>
        <translation>分数 ≥</translation>
    </message>
    <message>
        <source>Candidates below this score are hidden and left out of the metrics</source>
        <translation>低于此分数的候选将被隐藏，且不计入指标</translation>
    </message>
    <message>
        <source>Missed ⌀</source>
        <translation>漏检 ⌀</translation>
    </message>
    <message>
        <source> mm</source>
        <translation> mm</translation>
    </message>
    <message>
        <source>Diameter given to a nodule marked as missed (M, then click its centre)</source>
        <translation>标为漏检的结节所用的直径（按 M，再点击其中心）</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>FROC</source>
        <translation>FROC</translation>
    </message>
    <message>
        <source>after review</source>
        <translation>审阅后</translation>
    </message>
    <message>
        <source>detector (all marks)</source>
        <translation>检测器（全部标记）</translation>
    </message>
    <message>
        <source>false positives per scan</source>
        <translation>每扫描假阳性数</translation>
    </message>
    <message>
        <source>sensitivity</source>
        <translation>灵敏度</translation>
    </message>
    <message>
        <source>&lt;table cellspacing=2&gt;&lt;tr&gt;&lt;td&gt;CPM&lt;/td&gt;&lt;td&gt;&lt;b style=&apos;font-size:large&apos;&gt;%1&lt;/b&gt;&lt;/td&gt;&lt;td&gt;&amp;nbsp;detector %2&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;mAP@0.5&lt;/td&gt;&lt;td&gt;&lt;b&gt;%3&lt;/b&gt;&lt;/td&gt;&lt;td&gt;&amp;nbsp;detector %4&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;Nodules&lt;/td&gt;&lt;td&gt;&lt;b&gt;%5&lt;/b&gt;&lt;/td&gt;&lt;td&gt;&amp;nbsp;%6 annotated, %7 found by the reviewer&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;Detected&lt;/td&gt;&lt;td&gt;&lt;b&gt;%8&lt;/b&gt;&lt;/td&gt;&lt;td&gt;&amp;nbsp;by %9 kept marks&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;False pos.&lt;/td&gt;&lt;td&gt;&lt;b&gt;%10&lt;/b&gt;&lt;/td&gt;&lt;td&gt;&amp;nbsp;%11 per scan over %12 scans&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;Decisions&lt;/td&gt;&lt;td colspan=2&gt;%13 accepted · %14 rejected · %15 missed · %16 pending&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;</source>
        <translation>&lt;table cellspacing=2&gt;&lt;tr&gt;&lt;td&gt;CPM&lt;/td&gt;&lt;td&gt;&lt;b style=&apos;font-size:large&apos;&gt;%1&lt;/b&gt;&lt;/td&gt;&lt;td&gt;&amp;nbsp;检测器 %2&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;mAP@0.5&lt;/td&gt;&lt;td&gt;&lt;b&gt;%3&lt;/b&gt;&lt;/td&gt;&lt;td&gt;&amp;nbsp;检测器 %4&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;结节&lt;/td&gt;&lt;td&gt;&lt;b&gt;%5&lt;/b&gt;&lt;/td&gt;&lt;td&gt;&amp;nbsp;标注 %6 个，审阅者发现 %7 个&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;已检出&lt;/td&gt;&lt;td&gt;&lt;b&gt;%8&lt;/b&gt;&lt;/td&gt;&lt;td&gt;&amp;nbsp;来自 %9 个保留标记&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;假阳性&lt;/td&gt;&lt;td&gt;&lt;b&gt;%10&lt;/b&gt;&lt;/td&gt;&lt;td&gt;&amp;nbsp;每扫描 %11 个，共 %12 个扫描&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;决定&lt;/td&gt;&lt;td colspan=2&gt;接受 %13 · 拒绝 %14 · 漏检 %15 · 待定 %16&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;</translation>
    </message>
    <message>
        <source>&lt;div&gt;Sensitivity at FPs/scan (after review):&lt;/div&gt;</source>
        <translation>&lt;div&gt;各每扫描假阳性数下的灵敏度（审阅后）：&lt;/div&gt;</translation>
    </message>
    <message>
        <source>Run detector…</source>
        <translation>运行检测器…</translation>
    </message>
    <message>
        <source>Runs a detector checkpoint (r1-worker detect train) over every scan of the folder; its candidates are written beside the scans and opened for review</source>
        <translation>在文件夹的每个扫描上运行检测器检查点（r1-worker detect train）；其候选写入扫描旁边并打开以供审阅</translation>
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
<context>
    <name>r1::widgets::ScanListModel</name>
    <message>
        <source>Annotated nodules (annotations.csv)</source>
        <translation>标注的结节（annotations.csv）</translation>
    </message>
    <message>
        <source>Candidates at or above the score threshold</source>
        <translation>分数不低于阈值的候选</translation>
    </message>
    <message>
        <source>Candidates accepted or rejected / candidates</source>
        <translation>已接受或已拒绝的候选 / 候选总数</translation>
    </message>
    <message>
        <source>Candidates the reviewer accepted as nodules</source>
        <translation>审阅者接受为结节的候选</translation>
    </message>
    <message>
        <source>Candidates the reviewer rejected</source>
        <translation>审阅者拒绝的候选</translation>
    </message>
    <message>
        <source>Nodules the reviewer marked as missed by the detector</source>
        <translation>审阅者标为检测器漏检的结节</translation>
    </message>
    <message>
        <source>Scan</source>
        <translation>扫描</translation>
    </message>
    <message>
        <source>Nodules</source>
        <translation>结节</translation>
    </message>
    <message>
        <source>Cand.</source>
        <translation>候选</translation>
    </message>
    <message>
        <source>Reviewed</source>
        <translation>已审阅</translation>
    </message>
    <message>
        <source>Acc.</source>
        <translation>接受</translation>
    </message>
    <message>
        <source>Rej.</source>
        <translation>拒绝</translation>
    </message>
    <message>
        <source>Missed</source>
        <translation>漏检</translation>
    </message>
    <message>
        <source>%1
%2</source>
        <translation>%1
%2</translation>
    </message>
</context>
<context>
    <name>r1::widgets::SliceView</name>
    <message>
        <source>GT ⌀%1</source>
        <translation>GT ⌀%1</translation>
    </message>
    <message>
        <source>M%1 ⌀%2</source>
        <translation>M%1 ⌀%2</translation>
    </message>
    <message>
        <source>Axial</source>
        <translation>轴位</translation>
    </message>
    <message>
        <source>Coronal</source>
        <translation>冠状位</translation>
    </message>
    <message>
        <source>Sagittal</source>
        <translation>矢状位</translation>
    </message>
    <message>
        <source>%1  %2 / %3</source>
        <translation>%1  %2 / %3</translation>
    </message>
    <message>
        <source>W %1  L %2</source>
        <translation>W %1  L %2</translation>
    </message>
    <message>
        <source>zoom %1%</source>
        <translation>缩放 %1%</translation>
    </message>
    <message>
        <source>x %1  y %2  z %3   %4 HU</source>
        <translation>x %1  y %2  z %3   %4 HU</translation>
    </message>
    <message>
        <source>Click the centre of the missed nodule (Esc cancels)</source>
        <translation>点击漏检结节的中心（Esc 取消）</translation>
    </message>
</context>
<context>
    <name>r1::widgets::ZProfileStrip</name>
    <message>
        <source>Where the marks lie along z (head end at the top); click to go there</source>
        <translation>各标记沿 z 轴的位置（头端在上）；点击即跳转</translation>
    </message>
</context>
</TS>
