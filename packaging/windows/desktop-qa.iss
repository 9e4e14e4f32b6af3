; Inno Setup 6 script: a per-machine (or per-user) installer for the one-folder bundle.
;
;   python packaging\build.py
;   iscc /DAppVersion=0.1.0 packaging\windows\desktop-qa.iss
;
; AppVersion must be desktop_qa.__version__ (build.py prints it; in PowerShell:
;   $v = python -c "import desktop_qa; print(desktop_qa.__version__)"
;   iscc /DAppVersion=$v packaging\windows\desktop-qa.iss ).
; Output: packaging\dist\desktop-qa-<version>-windows-x64-setup.exe

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z packaging\windows\desktop-qa.iss
#endif
#define AppName "desktop-qa"
#define BundleDir "..\dist\desktop-qa"

[Setup]
AppId={{6B1D3A52-6F0E-4C47-9E43-2E1A0D5C9B17}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=desktop-qa maintainers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Let the user pick "install for me only" (no admin rights) or for all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; The AGPL text, shown before installing (also in {app}\_internal\licenses\desktop-qa\).
LicenseFile=..\licenses\agpl-3.0.txt
OutputDir=..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\desktop-qa.ico
UninstallDisplayIcon={app}\desktop-qaw.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add desktop-qa to PATH (for the command line)"; Flags: unchecked
Name: "pdfassoc"; Description: "Offer desktop-qa in ""Open with"" for PDF files"; Flags: unchecked

[Files]
; The whole PyInstaller one-folder bundle: desktop-qa.exe (console, the CLI),
; desktop-qaw.exe (no console, the window) and _internal\ (Python, Qt, MuPDF, models).
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\desktop-qaw.exe"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\desktop-qaw.exe"; Tasks: desktopicon

[Registry]
Root: HKA; Subkey: "Software\Classes\Applications\desktop-qaw.exe\shell\open\command"; ValueType: string; ValueData: """{app}\desktop-qaw.exe"" ""%1"""; Flags: uninsdeletekey; Tasks: pdfassoc
Root: HKA; Subkey: "Software\Classes\.pdf\OpenWithList\desktop-qaw.exe"; ValueType: string; ValueData: ""; Flags: uninsdeletekey; Tasks: pdfassoc
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Check: NeedsAddPath(ExpandConstant('{app}')); Tasks: addtopath; Flags: preservestringtype

[Run]
Filename: "{app}\desktop-qaw.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Paths: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Paths) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Paths) + ';') = 0;
end;
