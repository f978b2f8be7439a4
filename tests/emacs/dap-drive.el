;;; dap-drive.el --- drive dap-mode headless through one debug session -*- lexical-binding: t -*-
;;
;; Used by tests/test_dap_emacs.py:
;;   emacs --batch -l dap-drive.el
;; with DAP_DRIVE_ADAPTER (the adapter's command line, tab-separated),
;; DAP_DRIVE_PROGRAM (a script) and DAP_DRIVE_LINE (a breakpoint line).
;; It sets the breakpoint in a buffer visiting the script, starts dap-mode's
;; session with a launch configuration, and prints one line per step:
;; STOPPED name line / EVAL result / STEPPED line / TERMINATED / OUTPUT text.
;; Any wait longer than 60 s prints TIMEOUT and exits with status 1.

(require 'package)
(package-initialize)
(require 'dap-mode)
(require 'dap-ui)        ; defines dap-exception-breakpoints, which dap-mode reads

(setq dap-print-io (and (getenv "DAP_DRIVE_DEBUG") t)
      dap-auto-configure-features nil
      dap-breakpoints-file (make-temp-file "dap-breakpoints"))

(defvar dap-drive-stops 0)
(defvar dap-drive-terminated nil)
(add-hook 'dap-stopped-hook (lambda (_session) (setq dap-drive-stops (1+ dap-drive-stops))))
(add-hook 'dap-terminated-hook (lambda (_session) (setq dap-drive-terminated t)))

(defun dap-drive-say (fmt &rest args)
  (princ (concat (apply #'format fmt args) "\n")))

(defun dap-drive-wait (pred what)
  (let ((deadline (+ (float-time) 60)))
    (while (not (funcall pred))
      (when (> (float-time) deadline)
        (dap-drive-say "TIMEOUT waiting for %s" what)
        (kill-emacs 1))
      (accept-process-output nil 0.05))))

(let* ((adapter (split-string (getenv "DAP_DRIVE_ADAPTER") "\t"))
       (program (getenv "DAP_DRIVE_PROGRAM"))
       (line (string-to-number (getenv "DAP_DRIVE_LINE"))))
  (find-file program)
  (goto-char (point-min))
  (forward-line (1- line))
  (dap-breakpoint-add)
  (dap-start-debugging-noexpand
   (list :type "python" :request "launch" :name "sleuth-test"
         :dap-server-path adapter
         :program program :cwd (file-name-directory program)
         :console "internalConsole"))
  (let ((session (dap--cur-session)))
    (dap-drive-wait (lambda () (and (> dap-drive-stops 0)
                                    (dap--debug-session-active-frame session)))
                    "the breakpoint")
    (let ((frame (dap--debug-session-active-frame session)))
      (dap-drive-say "STOPPED %s %s" (gethash "name" frame) (gethash "line" frame))
      (let ((body (dap-request session "evaluate" :expression "a * 10"
                               :frameId (gethash "id" frame) :context "repl")))
        (dap-drive-say "EVAL %s" (gethash "result" body))))
    (dap-next session)
    (dap-drive-wait (lambda () (and (> dap-drive-stops 1)
                                    (dap--debug-session-active-frame session)))
                    "the step")
    (dap-drive-say "STEPPED %s" (gethash "line" (dap--debug-session-active-frame session)))
    ;; Run to the end. An adapter may stop once more on the SystemExit
    ;; (debugpy does, for a nonzero status with "uncaught" on): go on then.
    (let ((stops dap-drive-stops))
      (dotimes (_ 3)
        (unless dap-drive-terminated
          (dap-continue session (dap--debug-session-thread-id session))
          (dap-drive-wait (lambda () (or dap-drive-terminated
                                         (and (> dap-drive-stops stops)
                                              (dap--debug-session-thread-id session))))
                          "the end of the program")
          (setq stops dap-drive-stops))))
    (dap-drive-say "TERMINATED")
    (with-current-buffer (dap--debug-session-output-buffer session)
      (dap-drive-say "OUTPUT %S" (buffer-string)))))
(kill-emacs 0)
