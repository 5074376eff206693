<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ConfigBridge</name>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Folder</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>Vocabulary size</source>
        <translation>词表大小</translation>
    </message>
    <message>
        <source>Hidden size</source>
        <translation>隐藏层维度</translation>
    </message>
    <message>
        <source>Layers</source>
        <translation>层数</translation>
    </message>
    <message>
        <source>Attention heads</source>
        <translation>注意力头数</translation>
    </message>
    <message>
        <source>Q LoRA rank</source>
        <translation>Q 低秩维度</translation>
    </message>
    <message>
        <source>KV LoRA rank</source>
        <translation>KV 低秩维度</translation>
    </message>
    <message>
        <source>QK nope head dim</source>
        <translation>QK 非 RoPE 头维度</translation>
    </message>
    <message>
        <source>QK RoPE head dim</source>
        <translation>QK RoPE 头维度</translation>
    </message>
    <message>
        <source>V head dim</source>
        <translation>V 头维度</translation>
    </message>
    <message>
        <source>RoPE theta</source>
        <translation>RoPE theta</translation>
    </message>
    <message>
        <source>Max sequence length</source>
        <translation>最大序列长度</translation>
    </message>
    <message>
        <source>Dense layers</source>
        <translation>稠密层数</translation>
    </message>
    <message>
        <source>Dense hidden size</source>
        <translation>稠密 FFN 隐藏维度</translation>
    </message>
    <message>
        <source>Routed experts</source>
        <translation>路由专家数</translation>
    </message>
    <message>
        <source>Shared experts</source>
        <translation>共享专家数</translation>
    </message>
    <message>
        <source>Activated experts</source>
        <translation>激活专家数</translation>
    </message>
    <message>
        <source>MoE hidden size</source>
        <translation>MoE 隐藏维度</translation>
    </message>
    <message>
        <source>Expert groups</source>
        <translation>专家组数</translation>
    </message>
    <message>
        <source>Limited groups</source>
        <translation>限定组数</translation>
    </message>
    <message>
        <source>Route scale</source>
        <translation>路由缩放</translation>
    </message>
    <message>
        <source>Bias update speed</source>
        <translation>偏置更新速度</translation>
    </message>
    <message>
        <source>Balance loss alpha</source>
        <translation>均衡损失系数</translation>
    </message>
    <message>
        <source>MTP depth</source>
        <translation>MTP 深度</translation>
    </message>
    <message>
        <source>MTP weight</source>
        <translation>MTP 权重</translation>
    </message>
    <message>
        <source>Tie embeddings</source>
        <translation>共享嵌入</translation>
    </message>
    <message>
        <source>Norm epsilon</source>
        <translation>归一化 epsilon</translation>
    </message>
    <message>
        <source>Init std</source>
        <translation>初始化标准差</translation>
    </message>
    <message>
        <source>Paths</source>
        <translation>路径</translation>
    </message>
    <message>
        <source>Validation fraction</source>
        <translation>验证集比例</translation>
    </message>
    <message>
        <source>Cache folder</source>
        <translation>缓存文件夹</translation>
    </message>
    <message>
        <source>Tokenizer</source>
        <translation>分词器</translation>
    </message>
    <message>
        <source>Sequence length</source>
        <translation>序列长度</translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <source>Gradient accumulation</source>
        <translation>梯度累积</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>Embedding learning rate</source>
        <translation>嵌入层学习率</translation>
    </message>
    <message>
        <source>Schedule</source>
        <translation>学习率调度</translation>
    </message>
    <message>
        <source>Warmup steps</source>
        <translation>预热步数</translation>
    </message>
    <message>
        <source>Min LR ratio</source>
        <translation>最小学习率比例</translation>
    </message>
    <message>
        <source>Weight decay</source>
        <translation>权重衰减</translation>
    </message>
    <message>
        <source>AdamW beta1</source>
        <translation>AdamW beta1</translation>
    </message>
    <message>
        <source>AdamW beta2</source>
        <translation>AdamW beta2</translation>
    </message>
    <message>
        <source>AdamW epsilon</source>
        <translation>AdamW epsilon</translation>
    </message>
    <message>
        <source>Clip gradient</source>
        <translation>梯度裁剪</translation>
    </message>
    <message>
        <source>Label smoothing</source>
        <translation>标签平滑</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>精度</translation>
    </message>
    <message>
        <source>Loss scale init</source>
        <translation>初始损失缩放</translation>
    </message>
    <message>
        <source>Scale window</source>
        <translation>缩放窗口</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Threads</source>
        <translation>线程数</translation>
    </message>
    <message>
        <source>Kernels</source>
        <translation>融合 CUDA 内核</translation>
    </message>
    <message>
        <source>Log every (steps)</source>
        <translation>记录间隔（步）</translation>
    </message>
    <message>
        <source>Peak TFLOP/s</source>
        <translation>峰值 TFLOP/s</translation>
    </message>
    <message>
        <source>Every (steps)</source>
        <translation>间隔（步）</translation>
    </message>
    <message>
        <source>Batches</source>
        <translation>批次数</translation>
    </message>
    <message>
        <source>Keep last</source>
        <translation>保留最近</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>恢复</translation>
    </message>
</context>
<context>
    <name>ConfigHelp</name>
    <message>
        <source>Run name; the run folder is run.dir/run.name</source>
        <translation>运行名称；运行文件夹为 run.dir/run.name</translation>
    </message>
    <message>
        <source>Folder holding runs</source>
        <translation>存放运行的文件夹</translation>
    </message>
    <message>
        <source>Architecture preset applied before other keys</source>
        <translation>在其他键之前应用的架构预设</translation>
    </message>
    <message>
        <source>Vocabulary size (BPE tokenizer trained to this size)</source>
        <translation>词表大小（BPE 分词器训练到此大小）</translation>
    </message>
    <message>
        <source>Hidden size</source>
        <translation>隐藏层维度</translation>
    </message>
    <message>
        <source>Transformer blocks</source>
        <translation>Transformer 块数</translation>
    </message>
    <message>
        <source>Attention heads</source>
        <translation>注意力头数</translation>
    </message>
    <message>
        <source>MLA query latent rank (0: full-rank query projection)</source>
        <translation>MLA 查询潜在秩（0：满秩查询投影）</translation>
    </message>
    <message>
        <source>MLA joint key/value latent rank</source>
        <translation>MLA 键/值联合潜在秩</translation>
    </message>
    <message>
        <source>Per-head query/key dims without RoPE</source>
        <translation>每个头不含 RoPE 的查询/键维度</translation>
    </message>
    <message>
        <source>Decoupled RoPE dims (key shared by all heads); even</source>
        <translation>解耦 RoPE 维度（键由所有头共享）；须为偶数</translation>
    </message>
    <message>
        <source>Per-head value dims</source>
        <translation>每个头的值维度</translation>
    </message>
    <message>
        <source>RoPE base</source>
        <translation>RoPE 基数</translation>
    </message>
    <message>
        <source>Longest sequence</source>
        <translation>最长序列</translation>
    </message>
    <message>
        <source>Leading blocks with a dense FFN; the rest use DeepSeekMoE</source>
        <translation>前若干块使用稠密 FFN，其余使用 DeepSeekMoE</translation>
    </message>
    <message>
        <source>Dense SwiGLU hidden size (also the MTP blocks)</source>
        <translation>稠密 SwiGLU 隐藏维度（MTP 块也使用）</translation>
    </message>
    <message>
        <source>Routed experts</source>
        <translation>路由专家数</translation>
    </message>
    <message>
        <source>Shared experts</source>
        <translation>共享专家数</translation>
    </message>
    <message>
        <source>Routed experts chosen per token (top-k)</source>
        <translation>每个词元选择的路由专家数（top-k）</translation>
    </message>
    <message>
        <source>Expert SwiGLU hidden size</source>
        <translation>专家 SwiGLU 隐藏维度</translation>
    </message>
    <message>
        <source>Expert groups for group-limited routing</source>
        <translation>分组限定路由的专家组数</translation>
    </message>
    <message>
        <source>Groups a token may route to</source>
        <translation>词元可路由到的组数</translation>
    </message>
    <message>
        <source>Scale on normalized gate weights</source>
        <translation>归一化门控权重的缩放</translation>
    </message>
    <message>
        <source>Aux-loss-free balancing: bias += gamma * sign(mean load - load) each step</source>
        <translation>无辅助损失均衡：每步 bias += gamma * sign(平均负载 - 负载)</translation>
    </message>
    <message>
        <source>Sequence-wise balance loss weight (0: off)</source>
        <translation>序列级均衡损失权重（0：关闭）</translation>
    </message>
    <message>
        <source>Multi-token prediction depth</source>
        <translation>多词元预测深度</translation>
    </message>
    <message>
        <source>MTP loss weight (lambda)</source>
        <translation>MTP 损失权重（lambda）</translation>
    </message>
    <message>
        <source>Share the token embedding with the LM head</source>
        <translation>词元嵌入与语言模型输出头共享</translation>
    </message>
    <message>
        <source>RMSNorm epsilon</source>
        <translation>RMSNorm epsilon</translation>
    </message>
    <message>
        <source>Weight init standard deviation</source>
        <translation>权重初始化标准差</translation>
    </message>
    <message>
        <source>Text files or folders (empty: Debian's fortunes, English + Chinese)</source>
        <translation>文本文件或文件夹（留空：Debian 的 fortunes，中英文）</translation>
    </message>
    <message>
        <source>Tail fraction of tokens held out for validation</source>
        <translation>末尾留作验证的词元比例</translation>
    </message>
    <message>
        <source>Tokenizer/token cache (empty: ~/.cache/r1-workbench)</source>
        <translation>分词器/词元缓存（留空：~/.cache/r1-workbench）</translation>
    </message>
    <message>
        <source>Existing tokenizer file (empty: train on the corpus)</source>
        <translation>已有的分词器文件（留空：在语料上训练）</translation>
    </message>
    <message>
        <source>Training sequence length</source>
        <translation>训练序列长度</translation>
    </message>
    <message>
        <source>Sequences per micro-batch</source>
        <translation>每个微批次的序列数</translation>
    </message>
    <message>
        <source>Optimizer steps</source>
        <translation>优化器步数</translation>
    </message>
    <message>
        <source>Micro-batches per optimizer step</source>
        <translation>每个优化器步的微批次数</translation>
    </message>
    <message>
        <source>Peak learning rate of the body</source>
        <translation>主体的峰值学习率</translation>
    </message>
    <message>
        <source>Peak learning rate of the embedding and head</source>
        <translation>嵌入层与输出头的峰值学习率</translation>
    </message>
    <message>
        <source>Learning-rate schedule after warmup</source>
        <translation>预热后的学习率调度</translation>
    </message>
    <message>
        <source>Linear warmup steps</source>
        <translation>线性预热步数</translation>
    </message>
    <message>
        <source>Final learning rate as a fraction of the peak</source>
        <translation>最终学习率占峰值的比例</translation>
    </message>
    <message>
        <source>AdamW decoupled weight decay (never on norms or biases)</source>
        <translation>AdamW 解耦权重衰减（不作用于归一化层和偏置）</translation>
    </message>
    <message>
        <source>AdamW beta1</source>
        <translation>AdamW beta1</translation>
    </message>
    <message>
        <source>AdamW beta2</source>
        <translation>AdamW beta2</translation>
    </message>
    <message>
        <source>AdamW epsilon</source>
        <translation>AdamW epsilon</translation>
    </message>
    <message>
        <source>Global gradient-norm clip (0: off)</source>
        <translation>全局梯度范数裁剪（0：关闭）</translation>
    </message>
    <message>
        <source>Label smoothing</source>
        <translation>标签平滑</translation>
    </message>
    <message>
        <source>Compute precision</source>
        <translation>计算精度</translation>
    </message>
    <message>
        <source>fp16: initial dynamic loss scale</source>
        <translation>fp16：初始动态损失缩放</translation>
    </message>
    <message>
        <source>fp16: clean steps before the scale doubles</source>
        <translation>fp16：缩放翻倍前所需的无溢出步数</translation>
    </message>
    <message>
        <source>Seed for init and data sampling</source>
        <translation>初始化与数据采样的随机种子</translation>
    </message>
    <message>
        <source>cpu, cuda or cuda:N</source>
        <translation>cpu、cuda 或 cuda:N</translation>
    </message>
    <message>
        <source>CPU threads for LibTorch (0: default)</source>
        <translation>LibTorch 使用的 CPU 线程数（0：默认）</translation>
    </message>
    <message>
        <source>Steps between step events</source>
        <translation>步事件之间的间隔步数</translation>
    </message>
    <message>
        <source>Fused CUDA kernels (RMSNorm, cross-entropy) on CUDA where built; off: ATen only</source>
        <translation>在 CUDA 上使用融合 CUDA 内核（RMSNorm、交叉熵，需构建时启用）；关闭：仅用 ATen</translation>
    </message>
    <message>
        <source>Peak TFLOP/s for MFU (0: known GPUs only)</source>
        <translation>用于计算 MFU 的峰值 TFLOP/s（0：仅限已知 GPU）</translation>
    </message>
    <message>
        <source>Steps between evaluations (0: at end)</source>
        <translation>评估间隔步数（0：仅在结束时）</translation>
    </message>
    <message>
        <source>Validation batches per evaluation</source>
        <translation>每次评估的验证批次数</translation>
    </message>
    <message>
        <source>Steps between checkpoints (0: at end only)</source>
        <translation>检查点间隔步数（0：仅在结束时）</translation>
    </message>
    <message>
        <source>Checkpoints kept in the run folder</source>
        <translation>运行文件夹中保留的检查点数</translation>
    </message>
    <message>
        <source>Resume from a checkpoint file, or &quot;latest&quot; in the run folder</source>
        <translation>从检查点文件恢复，或填 &quot;latest&quot; 使用运行文件夹中最新的检查点</translation>
    </message>
</context>
</TS>
