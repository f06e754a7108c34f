<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>CheckDialog</name>
    <message>
        <source>Rectification check</source>
        <translation>整改核查</translation>
    </message>
    <message>
        <source>Add “after” photos…</source>
        <translation>添加“整改后”照片…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>A passing check closes the finding (销号) and needs at least one “after” photo. 未整改 sends it back for rectification.</source>
        <translation>核查通过即销号，须至少附一张“整改后”照片；核查结果为“未整改”时退回整改。</translation>
    </message>
    <message numerus="yes">
        <source>%n “after” photo(s) already on the finding count as evidence.</source>
        <translation>
            <numerusform>问题上已有的 %n 张“整改后”照片将作为证据。</numerusform>
        </translation>
    </message>
    <message>
        <source>Result</source>
        <translation>核查结果</translation>
    </message>
    <message>
        <source>Checked at</source>
        <translation>核查时间</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>核查意见</translation>
    </message>
    <message>
        <source>Photos</source>
        <translation>照片</translation>
    </message>
    <message>
        <source>Choose photos</source>
        <translation>选择照片</translation>
    </message>
    <message>
        <source>Closing needs at least one “after” photo as evidence. Add one, or choose 未整改 to send the finding back.</source>
        <translation>销号须至少附一张“整改后”照片作为证据。请添加照片，或选择“未整改”退回整改。</translation>
    </message>
</context>
<context>
    <name>ConflictsDialog</name>
    <message>
        <source>Conflicts</source>
        <translation>同步冲突</translation>
    </message>
    <message>
        <source>Someone else changed these fields on the platform before your change arrived. Their value is in the record now; yours is kept here. Choose which one stays.</source>
        <translation>在您的修改到达平台之前，其他人已修改了这些内容。记录中现在是平台上的值，您的值保留在这里。请选择保留哪一个。</translation>
    </message>
    <message>
        <source>Record</source>
        <translation>记录</translation>
    </message>
    <message>
        <source>Field</source>
        <translation>字段</translation>
    </message>
    <message>
        <source>Platform&apos;s value</source>
        <translation>平台上的值</translation>
    </message>
    <message>
        <source>My value</source>
        <translation>我的值</translation>
    </message>
    <message>
        <source>Found</source>
        <translation>发现时间</translation>
    </message>
    <message>
        <source>Keep mine</source>
        <translation>保留我的</translation>
    </message>
    <message>
        <source>Keep the platform&apos;s</source>
        <translation>采用平台的</translation>
    </message>
    <message>
        <source>Resolving the conflict</source>
        <translation>正在处理冲突</translation>
    </message>
</context>
<context>
    <name>ErrorDialog</name>
    <message>
        <source>Copy details</source>
        <translation>复制详细信息</translation>
    </message>
    <message>
        <source>FieldApp</source>
        <translation>FieldApp 现场督查</translation>
    </message>
    <message>
        <source>FieldApp: unexpected error</source>
        <translation>FieldApp：意外错误</translation>
    </message>
    <message>
        <source>Something went wrong that FieldApp did not expect. Your saved data is safe. Please send the details to your IT staff.</source>
        <translation>FieldApp 遇到了意外错误。已保存的数据是安全的。请将详细信息发送给信息化人员。</translation>
    </message>
</context>
<context>
    <name>FilterBar</name>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>督查类别</translation>
    </message>
    <message>
        <source>Region</source>
        <translation>行政区划</translation>
    </message>
    <message>
        <source>All</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>Overdue only</source>
        <translation>只看逾期</translation>
    </message>
    <message>
        <source>Clear filters</source>
        <translation>清除筛选</translation>
    </message>
    <message>
        <source>Search code, title, unit, address…</source>
        <translation>搜索编号、名称、单位、地址…</translation>
    </message>
    <message>
        <source>Tasks: %1</source>
        <translation>共 %1 项任务</translation>
    </message>
    <message>
        <source>overdue: %1</source>
        <translation>逾期 %1 项</translation>
    </message>
    <message>
        <source>no task matches these filters</source>
        <translation>没有符合筛选条件的任务</translation>
    </message>
</context>
<context>
    <name>FindingDialog</name>
    <message>
        <source>Record a finding</source>
        <translation>记录发现问题</translation>
    </message>
    <message>
        <source>Set a deadline</source>
        <translation>设定时限</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>问题描述</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>督查类别</translation>
    </message>
    <message>
        <source>Severity</source>
        <translation>严重程度</translation>
    </message>
    <message>
        <source>Responsible unit</source>
        <translation>责任单位</translation>
    </message>
    <message>
        <source>Rectification requirement</source>
        <translation>整改要求</translation>
    </message>
    <message>
        <source>Rectification deadline</source>
        <translation>整改时限</translation>
    </message>
    <message>
        <source>Describe the problem found.</source>
        <translation>请填写问题描述。</translation>
    </message>
</context>
<context>
    <name>ImportDialog</name>
    <message>
        <source>Import task list — %s</source>
        <translation>导入督查任务清单 — %s</translation>
    </message>
    <message>
        <source>Column</source>
        <translation>列</translation>
    </message>
    <message>
        <source>Header in the sheet</source>
        <translation>表中的列标题</translation>
    </message>
    <message>
        <source>Imported as</source>
        <translation>导入为</translation>
    </message>
    <message>
        <source>All rows</source>
        <translation>全部行</translation>
    </message>
    <message>
        <source>Import the other rows and leave the rows with errors out</source>
        <translation>跳过有错误的行，导入其余各行</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>Sheet</source>
        <translation>工作表</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Reading %s</source>
        <translation>正在读取 %s</translation>
    </message>
    <message>
        <source>%1 with warnings (orange): check them</source>
        <translation>其中 %1 行有警告（橙色），请核对</translation>
    </message>
    <message>
        <source>Header: row %s</source>
        <translation>表头：第 %s 行</translation>
    </message>
    <message>
        <source>No header row found</source>
        <translation>未找到表头行</translation>
    </message>
    <message>
        <source>year of the list: %d</source>
        <translation>清单年份：%d</translation>
    </message>
    <message>
        <source>(hidden)</source>
        <translation>（隐藏）</translation>
    </message>
    <message>
        <source>e.g. %1</source>
        <translation>例如：%1</translation>
    </message>
    <message>
        <source>— not imported —</source>
        <translation>— 不导入 —</translation>
    </message>
    <message>
        <source>To import this sheet, choose on the left, under “Imported as”, which column holds each field: at least “%1”, and also “%2”, “%3” where the sheet has them. The preview follows each choice.</source>
        <translation>要导入这张工作表，请在左侧“导入为”一栏为各列选择对应的字段：至少选出“%1”列，表中有“%2”“%3”的也请选上。每选一列，右侧预览随之更新。</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>Columns not imported: %1</source>
        <translation>未导入的列：%1</translation>
    </message>
    <message>
        <source>Not found: %1. If the sheet has them, choose their columns below.</source>
        <translation>未找到：%1。如表中有这些内容，请在下表“导入为”中选择对应的列。</translation>
    </message>
    <message>
        <source>%1 and %2 more</source>
        <comment>%1 the first names, %2 how many more, %3 how many in all</comment>
        <translation>%1 等 %3 个</translation>
    </message>
    <message numerus="yes">
        <source>The following %n task(s) imported earlier from the same list are not in this file; they are kept, not deleted: %1</source>
        <translation>
            <numerusform>以下 %n 个以前从同一清单导入的任务不在本文件中（仍保留，不会删除）：%1</numerusform>
        </translation>
    </message>
    <message>
        <source>Applying the column mapping</source>
        <translation>正在应用列对应关系</translation>
    </message>
    <message>
        <source>Importing %s</source>
        <translation>正在导入 %s</translation>
    </message>
    <message>
        <source>Imported %1: %2 new, %3 changed, %4 unchanged, %5 rows skipped.</source>
        <translation>已导入 %1：新增 %2 项，变更 %3 项，无变化 %4 项，跳过 %5 行。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Sign out</source>
        <translation>退出登录</translation>
    </message>
    <message>
        <source>Sign out of the platform? What you recorded stays on this computer and is sent at the next sign-in.</source>
        <translation>退出督查平台登录？您记录的内容仍保存在本机，下次登录后上传。</translation>
    </message>
    <message>
        <source>FieldApp — Supervision inspection</source>
        <translation>FieldApp 现场督查</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Settings</source>
        <translation>设置(&amp;S)</translation>
    </message>
    <message>
        <source>S&amp;ync</source>
        <translation>同步(&amp;Y)</translation>
    </message>
    <message>
        <source>&amp;Sync now</source>
        <translation>立即同步(&amp;S)</translation>
    </message>
    <message>
        <source>Sign &amp;in to the platform…</source>
        <translation>登录督查平台(&amp;I)…</translation>
    </message>
    <message>
        <source>&amp;Conflicts…</source>
        <translation>同步冲突(&amp;C)…</translation>
    </message>
    <message>
        <source>Sign &amp;out</source>
        <translation>退出登录(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>刷新(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Preferences…</source>
        <translation>首选项(&amp;P)…</translation>
    </message>
    <message>
        <source>&amp;About FieldApp</source>
        <translation>关于 FieldApp(&amp;A)</translation>
    </message>
    <message>
        <source>Open &amp;data folder (logs, backups)</source>
        <translation>打开数据文件夹（日志、备份）(&amp;D)</translation>
    </message>
    <message>
        <source>Load &amp;demo data</source>
        <translation>载入演示数据(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Import task list (Excel)…</source>
        <translation>导入督查任务清单（Excel）(&amp;I)…</translation>
    </message>
    <message>
        <source>Import an Excel task list…</source>
        <translation>导入 Excel 督查任务清单…</translation>
    </message>
    <message>
        <source>&amp;Export ledger (Excel)</source>
        <translation>导出台账（Excel）(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Task ledger…</source>
        <translation>督查任务台账(&amp;T)…</translation>
    </message>
    <message>
        <source>&amp;Findings ledger (with photos)…</source>
        <translation>发现问题台账（含照片）(&amp;F)…</translation>
    </message>
    <message>
        <source>&amp;Checks ledger…</source>
        <translation>整改核查台账(&amp;C)…</translation>
    </message>
    <message>
        <source>Save a blank import &amp;template…</source>
        <translation>保存空白导入模板(&amp;M)…</translation>
    </message>
    <message>
        <source>&lt;h3&gt;No inspection tasks yet&lt;/h3&gt;&lt;p&gt;Tasks arrive from the provincial platform or from an Excel task list. To look around first, load a demo set of a few hundred tasks in Zhejiang.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;还没有督查任务&lt;/h3&gt;&lt;p&gt;督查任务可由省级平台下发，或从 Excel 督查任务清单导入。想先熟悉软件，可以载入一套浙江省的演示数据（数百项任务）。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Load demo data</source>
        <translation>载入演示数据</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>Searching…</source>
        <translation>正在查找…</translation>
    </message>
    <message>
        <source>Data folder: %s</source>
        <translation>数据目录：%s</translation>
    </message>
    <message>
        <source>Welcome to FieldApp. Please enter your name: it is recorded as the author of the visits, findings and checks you record. You can change it later under Settings.</source>
        <translation>欢迎使用 FieldApp。请填写您的姓名：它将作为您记录的实地督查、发现问题和整改核查的填报人。以后可在“设置”中修改。</translation>
    </message>
    <message>
        <source>Saving settings</source>
        <translation>正在保存设置</translation>
    </message>
    <message>
        <source>Loading demo data</source>
        <translation>正在载入演示数据</translation>
    </message>
    <message>
        <source>Import task list</source>
        <translation>导入督查任务清单</translation>
    </message>
    <message>
        <source>Spreadsheets</source>
        <translation>电子表格</translation>
    </message>
    <message>
        <source>Excel workbook</source>
        <translation>Excel 工作簿</translation>
    </message>
    <message>
        <source>Task ledger</source>
        <translation>督查任务台账</translation>
    </message>
    <message>
        <source>Findings ledger</source>
        <translation>发现问题台账</translation>
    </message>
    <message>
        <source>Checks ledger</source>
        <translation>整改核查台账</translation>
    </message>
    <message>
        <source>Exporting %s</source>
        <translation>正在导出%s</translation>
    </message>
    <message>
        <source>Saved %s</source>
        <translation>已保存 %s</translation>
    </message>
    <message>
        <source>Import template</source>
        <translation>导入模板</translation>
    </message>
    <message>
        <source>task-list-template.xlsx</source>
        <translation>督查任务清单导入模板.xlsx</translation>
    </message>
    <message>
        <source>Saving the template</source>
        <translation>正在保存模板</translation>
    </message>
    <message>
        <source>About FieldApp</source>
        <translation>关于 FieldApp</translation>
    </message>
    <message>
        <source>&lt;b&gt;FieldApp %1&lt;/b&gt;&lt;br&gt;Offline-first supervision inspection for inspectors in the field.&lt;br&gt;&lt;br&gt;Data folder: %2&lt;br&gt;Python %3 · %4</source>
        <translation>&lt;b&gt;FieldApp 现场督查 %1&lt;/b&gt;&lt;br&gt;离线优先的政务督查现场工作软件。&lt;br&gt;&lt;br&gt;数据目录：%2&lt;br&gt;Python %3 · %4</translation>
    </message>
    <message>
        <source>Work in progress</source>
        <translation>正在保存</translation>
    </message>
    <message>
        <source>FieldApp is still working. Quit anyway? The running action is cancelled and nothing of it is saved; everything saved before stays.</source>
        <translation>FieldApp 仍在处理。确定要退出吗？正在进行的操作将被取消且不会保存；之前已保存的内容不受影响。</translation>
    </message>
</context>
<context>
    <name>PhotoFiles</name>
    <message>
        <source>Images</source>
        <translation>图片</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>所有文件 (*)</translation>
    </message>
</context>
<context>
    <name>PhotoViewer</name>
    <message>
        <source>Photo — %s</source>
        <translation>照片 — %s</translation>
    </message>
    <message>
        <source>The photo file cannot be shown: %s</source>
        <translation>无法显示照片文件：%s</translation>
    </message>
    <message>
        <source>not recorded</source>
        <translation>未记录</translation>
    </message>
    <message>
        <source>Taken at (EXIF)</source>
        <translation>拍摄时间（EXIF）</translation>
    </message>
    <message>
        <source>GPS (EXIF)</source>
        <translation>GPS 位置（EXIF）</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>照片类型</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <source>File</source>
        <translation>原文件</translation>
    </message>
</context>
<context>
    <name>RowModel</name>
    <message>
        <source>Sheet</source>
        <translation>工作表</translation>
    </message>
    <message>
        <source>Row</source>
        <translation>行</translation>
    </message>
    <message>
        <source>Code</source>
        <translation>任务编号</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>任务名称</translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation>处理结果</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>说明</translation>
    </message>
    <message>
        <source>New</source>
        <translation>新增</translation>
    </message>
    <message>
        <source>Changed</source>
        <translation>变更</translation>
    </message>
    <message>
        <source>Unchanged</source>
        <translation>无变化</translation>
    </message>
    <message>
        <source>Skipped</source>
        <translation>跳过</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>%1: %2 → %3</source>
        <translation>%1：%2 → %3</translation>
    </message>
    <message>
        <source>units: %s</source>
        <translation>责任单位：%s</translation>
    </message>
    <message>
        <source>region: %s</source>
        <translation>区划：%s</translation>
    </message>
    <message>
        <source>deadline: %s</source>
        <translation>时限：%s</translation>
    </message>
    <message>
        <source>deadline as written: %s</source>
        <translation>时限（按原文）：%s</translation>
    </message>
</context>
<context>
    <name>Runner</name>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Your name, recorded as the author of visits, findings and checks</source>
        <translation>您的姓名，将记录为督查、问题和核查的填报人</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>界面语言</translation>
    </message>
    <message>
        <source>Inspector name</source>
        <translation>督查员姓名</translation>
    </message>
</context>
<context>
    <name>SignInDialog</name>
    <message>
        <source>Sign in to the platform</source>
        <translation>登录督查平台</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>登录</translation>
    </message>
    <message>
        <source>Your FieldApp sends what you record to the platform and receives the tasks assigned to you. Ask your supervisor&apos;s office for the address and your account.</source>
        <translation>登录后，FieldApp 会把您记录的内容上传到督查平台，并接收分派给您的督查任务。平台地址和账号请向督查处索取。</translation>
    </message>
    <message>
        <source>Platform address</source>
        <translation>平台地址</translation>
    </message>
    <message>
        <source>User name</source>
        <translation>用户名</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <source>Fill in the address, the user name and the password.</source>
        <translation>请填写平台地址、用户名和密码。</translation>
    </message>
    <message>
        <source>Signing in…</source>
        <translation>正在登录…</translation>
    </message>
    <message>
        <source>Signing in failed: %1</source>
        <translation>登录失败：%1</translation>
    </message>
</context>
<context>
    <name>SyncArea</name>
    <message>
        <source>Sync now</source>
        <translation>立即同步</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Syncing…</source>
        <translation>正在同步…</translation>
    </message>
    <message>
        <source>uploading photos</source>
        <translation>上传照片</translation>
    </message>
    <message>
        <source>sending changes</source>
        <translation>上传变更</translation>
    </message>
    <message>
        <source>receiving</source>
        <translation>接收</translation>
    </message>
    <message>
        <source>Syncing: %1 %2/%3</source>
        <translation>正在同步：%1 %2/%3</translation>
    </message>
    <message>
        <source>Not signed in to the platform</source>
        <translation>未登录督查平台</translation>
    </message>
    <message>
        <source>Sign in…</source>
        <translation>登录…</translation>
    </message>
    <message>
        <source>Offline — everything is saved on this computer</source>
        <translation>离线——记录均已保存在本机</translation>
    </message>
    <message>
        <source>Online</source>
        <translation>在线</translation>
    </message>
    <message>
        <source>Signed in as %1</source>
        <translation>已登录：%1</translation>
    </message>
    <message>
        <source>last sync %1</source>
        <translation>上次同步 %1</translation>
    </message>
    <message>
        <source>never synced</source>
        <translation>尚未同步</translation>
    </message>
    <message>
        <source>to send: %1 changes, %2 photos</source>
        <translation>待上传：%1 条变更、%2 张照片</translation>
    </message>
    <message>
        <source>nothing to send</source>
        <translation>无待上传</translation>
    </message>
</context>
<context>
    <name>TaskDetail</name>
    <message>
        <source>Responsible units</source>
        <translation>责任单位</translation>
    </message>
    <message>
        <source>Lead unit</source>
        <translation>牵头单位</translation>
    </message>
    <message>
        <source>Cooperating units</source>
        <translation>配合单位</translation>
    </message>
    <message>
        <source>Region</source>
        <translation>行政区划</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Deadline</source>
        <translation>完成时限</translation>
    </message>
    <message>
        <source>Targets</source>
        <translation>督查目标</translation>
    </message>
    <message>
        <source>Inspectors</source>
        <translation>督查人员</translation>
    </message>
    <message>
        <source>Record visit…</source>
        <translation>记录实地督查…</translation>
    </message>
    <message>
        <source>Record finding…</source>
        <translation>新增发现问题…</translation>
    </message>
    <message>
        <source>Complete task</source>
        <translation>办结任务</translation>
    </message>
    <message>
        <source>Start rectification</source>
        <translation>开始整改</translation>
    </message>
    <message>
        <source>Submit for check</source>
        <translation>提交核查</translation>
    </message>
    <message>
        <source>Rectification check…</source>
        <translation>整改核查…</translation>
    </message>
    <message>
        <source>Add photos…</source>
        <translation>添加照片…</translation>
    </message>
    <message>
        <source>Photo kind</source>
        <translation>照片类型</translation>
    </message>
    <message>
        <source>No photos yet. Drop image files here or use “Add photos…”.</source>
        <translation>暂无照片。可将图片文件拖放到此处，或点击“添加照片…”。</translation>
    </message>
    <message>
        <source>Select a task on the left to open it.</source>
        <translation>请在左侧选择一项督查任务。</translation>
    </message>
    <message>
        <source>When</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Where</source>
        <translation>地点</translation>
    </message>
    <message>
        <source>Coordinates</source>
        <translation>坐标</translation>
    </message>
    <message>
        <source>Inspector</source>
        <translation>督查员</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>督查情况</translation>
    </message>
    <message>
        <source>Finding</source>
        <translation>发现问题</translation>
    </message>
    <message>
        <source>Severity</source>
        <translation>严重程度</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Responsible unit</source>
        <translation>责任单位</translation>
    </message>
    <message>
        <source>Rectify by</source>
        <translation>整改时限</translation>
    </message>
    <message>
        <source>Photos</source>
        <translation>照片</translation>
    </message>
    <message>
        <source>Sync</source>
        <translation>同步</translation>
    </message>
    <message>
        <source>Checked at</source>
        <translation>核查时间</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>核查结果</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>核查意见</translation>
    </message>
    <message>
        <source>(overdue)</source>
        <translation>（逾期）</translation>
    </message>
    <message>
        <source>to send</source>
        <translation>待上传</translation>
    </message>
    <message>
        <source>sent</source>
        <translation>已上传</translation>
    </message>
    <message>
        <source>Findings (%d)</source>
        <translation>发现问题（%d）</translation>
    </message>
    <message>
        <source>Visits (%d)</source>
        <translation>实地督查（%d）</translation>
    </message>
    <message>
        <source>Finding · %s</source>
        <translation>发现问题 · %s</translation>
    </message>
    <message>
        <source>Returned by the platform: %s</source>
        <translation>平台退回：%s</translation>
    </message>
    <message>
        <source>Requirement: %s</source>
        <translation>整改要求：%s</translation>
    </message>
    <message>
        <source>rectify by %s</source>
        <translation>整改时限 %s</translation>
    </message>
    <message>
        <source>Recording visit</source>
        <translation>正在保存实地督查</translation>
    </message>
    <message>
        <source>Recording finding</source>
        <translation>正在保存发现问题</translation>
    </message>
    <message>
        <source>Mark “%s” as completed (办结)? This cannot be undone in FieldApp.</source>
        <translation>确定将“%s”办结吗？办结后在 FieldApp 中不能撤销。</translation>
    </message>
    <message>
        <source>Completing task</source>
        <translation>正在办结任务</translation>
    </message>
    <message>
        <source>Updating finding</source>
        <translation>正在更新问题状态</translation>
    </message>
    <message>
        <source>Recording check</source>
        <translation>正在保存整改核查</translation>
    </message>
    <message>
        <source>Add photos</source>
        <translation>添加照片</translation>
    </message>
    <message>
        <source>Adding photos</source>
        <translation>正在添加照片</translation>
    </message>
</context>
<context>
    <name>TaskTableModel</name>
    <message>
        <source>Code</source>
        <translation>任务编号</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>任务名称</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>督查类别</translation>
    </message>
    <message>
        <source>Responsible unit</source>
        <translation>责任单位</translation>
    </message>
    <message>
        <source>Region</source>
        <translation>行政区划</translation>
    </message>
    <message>
        <source>Deadline</source>
        <translation>完成时限</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Open findings</source>
        <translation>未销号</translation>
    </message>
    <message>
        <source>Closed findings</source>
        <translation>已销号</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>逾期</translation>
    </message>
    <message>
        <source>Open-ended</source>
        <translation>长期</translation>
    </message>
</context>
<context>
    <name>VisitDialog</name>
    <message>
        <source>Record a visit</source>
        <translation>记录实地督查</translation>
    </message>
    <message>
        <source>e.g. 30.274</source>
        <translation>纬度，如 30.274</translation>
    </message>
    <message>
        <source>e.g. 120.155</source>
        <translation>经度，如 120.155</translation>
    </message>
    <message>
        <source>When</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Where</source>
        <translation>地点</translation>
    </message>
    <message>
        <source>Coordinates (optional)</source>
        <translation>坐标（可选）</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>督查情况</translation>
    </message>
    <message>
        <source>Coordinates must be numbers, e.g. 30.274 and 120.155.</source>
        <translation>坐标须为数字，如 30.274 和 120.155。</translation>
    </message>
    <message>
        <source>Give both latitude and longitude, or neither.</source>
        <translation>纬度和经度需同时填写，或都不填。</translation>
    </message>
    <message>
        <source>Latitude must be between -90 and 90, longitude between -180 and 180.</source>
        <translation>纬度须在 -90 到 90 之间，经度须在 -180 到 180 之间。</translation>
    </message>
    <message>
        <source>Say where the visit took place.</source>
        <translation>请填写督查地点。</translation>
    </message>
</context>
</TS>
